"""Loading programs through the VFS: ELF images, the initial stack, #! scripts."""
