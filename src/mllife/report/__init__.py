"""The shared report model: :class:`Report`, :class:`Finding` and :class:`Plot`.

Every analysis in mllife returns a :class:`Report` subclass that renders as
JSON, a DataFrame, Markdown and self-contained HTML.
"""

from ._base import Report
from ._finding import SEVERITIES, Finding
from ._frozen import FrozenDict
from ._json import jsonable
from ._plots import Plot

__all__ = ["SEVERITIES", "Finding", "FrozenDict", "Plot", "Report", "jsonable"]
