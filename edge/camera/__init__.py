"""Cameras at the edge: stream health, motion level and vehicle counting with OpenCV (issue 8).

Import the modules themselves (``edge.camera.source``, ``edge.camera.cli`` …): this package
imports nothing, so the ``ioc`` command line starts without loading OpenCV.
"""
