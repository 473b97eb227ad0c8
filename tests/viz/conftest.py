"""Tests of :mod:`neuroheat.viz`, one folder per sub-package (text/, color/, activations/,
saliency/); export and the render command at this level.

The test helpers (``raster_utils``, ``helpers_saliency``, ``make_reference``) live in this
folder; pytest puts the folder of a ``conftest.py`` on ``sys.path`` (its default "prepend"
import mode), which is what lets the tests in the sub-folders import them by name.
"""
