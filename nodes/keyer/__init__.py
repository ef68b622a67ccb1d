"""Keyers: nodes that pull a matte (a key) from an image and write it to alpha."""
