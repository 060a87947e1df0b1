"""Pure TISS validation engine: `validate(bytes, OperatorContext) -> ValidationResult`.

No I/O besides reading reference data (table 38, TUSS, XSDs) from the installed `tiss`
package and `$TISSFLOW_REFERENCE_DIR`. `apply_correction` edits values at human xpaths,
optionally recalculates totals, and always rewrites the epilogue hash.
"""

from .correcao import CorrecaoInvalida, apply_correction
from .model import Critique, GuiaResumo, OperatorContext, RuleConfig, ValidationResult
from .validar import validate

__all__ = [
    "validate",
    "apply_correction",
    "CorrecaoInvalida",
    "OperatorContext",
    "RuleConfig",
    "ValidationResult",
    "Critique",
    "GuiaResumo",
]
