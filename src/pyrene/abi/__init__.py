"""The Linux x86-64 ABI as data: numbers, flags, struct layouts, argument types."""
