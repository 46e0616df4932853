"""The narrow host interface: the only code that touches host files, streams and time.

Everything else reaches the host through these functions. Host OSErrors are translated
into `Errno` exactly once, here.
"""
