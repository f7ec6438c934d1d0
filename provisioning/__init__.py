"""Key ceremonies on files: the key store, trust exports, and the `checkpass` command line."""
