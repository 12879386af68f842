"""Shared by every test folder: its presence puts tests/ on sys.path, so ``servers`` imports everywhere."""
