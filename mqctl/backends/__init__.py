"""Built-in broker backends; each registers through the ``mqctl.backends`` entry point group."""
