"""livestyle: real-time webcam video stylizer."""

import os

# OpenCV prints several warning lines when probing for a camera that is not there; the app
# reports that itself in one line.
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

__version__ = "0.1.0"
