"""``python -m amigrate``."""

from amigrate.cli import console_main

console_main()
