"""livestyle: real-time webcam video stylizer."""

__version__ = "0.1.0"
