"""Mattebox: a node-based compositor.

``import mattebox as mb`` gives the public Python API: :class:`Graph`, :func:`load`,
:class:`Image`. See ``docs/python.md``.
"""
__version__ = "0.1.0"
