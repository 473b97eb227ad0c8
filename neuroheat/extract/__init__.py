"""Everything that runs a torch model: loading, word alignment, extraction, saliency.

Imports torch lazily: ``import neuroheat.extract`` stays cheap.
"""

from neuroheat.extract.models import LoadedModel, load_model

__all__ = ["LoadedModel", "load_model"]
