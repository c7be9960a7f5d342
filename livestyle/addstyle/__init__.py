"""A painting dropped on the live window trained into a style by a `livestyle train` child:
options.py what it is told, request.py one painting checked, job.py the child and its
progress, install.py the grown network into the styles folder, adder.py what the live
session asks for."""

from __future__ import annotations

from livestyle.addstyle.adder import StyleAdder
from livestyle.addstyle.options import AdderOptions

__all__ = ["AdderOptions", "StyleAdder"]
