"""kizuna.products: products as bills of materials (kg of each mineral per unit).

Templates (``load_template``) are cited defaults shipped as YAML; user BOMs (``read_bom``) are
CSV or Excel files; ``load_product`` takes either a template id or a path. See docs/products.md.
"""

from kizuna.products.bom import load_product, read_bom
from kizuna.products.model import Line, Product
from kizuna.products.templates import (
    TEMPLATE_IDS,
    describe_templates,
    load_template,
    load_template_file,
    template_ids,
)

__all__ = [
    "TEMPLATE_IDS",
    "Line",
    "Product",
    "describe_templates",
    "load_product",
    "load_template",
    "load_template_file",
    "read_bom",
    "template_ids",
]
