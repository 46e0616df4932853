"""One library-OS instance: the kernel of one app process."""
