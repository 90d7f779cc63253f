"""The one error every refusal of the SD backbone code raises."""
from __future__ import annotations


class WeightsError(ValueError):
    """A file, key, shape or config the SD code cannot load. The message names the file and what is wrong;
    whoever raises it has not kept a half-loaded model around."""
