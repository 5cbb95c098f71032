"""Node's rules: one module per rule id, each a small class (id, summary, the Node error it predicts,
help, check). :data:`RULES` is the registry, in the stable order SARIF's rule indexes follow; adding a
rule is a module here and a line below."""

from __future__ import annotations

from deploysafe.check.rules import RuleSet
from deploysafe.ecosystems.node.rules.browser_global import BrowserGlobalRule
from deploysafe.ecosystems.node.rules.case_mismatch import CaseMismatchRule
from deploysafe.ecosystems.node.rules.circular_import import CircularImportRule
from deploysafe.ecosystems.node.rules.context import RuleContext
from deploysafe.ecosystems.node.rules.dev_dependency_at_runtime import DevDependencyAtRuntimeRule
from deploysafe.ecosystems.node.rules.missing_export import MissingExportRule
from deploysafe.ecosystems.node.rules.missing_import_attribute import MissingImportAttributeRule
from deploysafe.ecosystems.node.rules.missing_native_binding import MissingNativeBindingRule
from deploysafe.ecosystems.node.rules.missing_package import MissingPackageRule
from deploysafe.ecosystems.node.rules.missing_start_file import MissingStartFileRule
from deploysafe.ecosystems.node.rules.require_of_esm import RequireOfEsmRule
from deploysafe.ecosystems.node.rules.syntax_error import SyntaxErrorRule
from deploysafe.ecosystems.node.rules.undeclared_dependency import UndeclaredDependencyRule
from deploysafe.ecosystems.node.rules.unknown_file_extension import UnknownFileExtensionRule
from deploysafe.ecosystems.node.rules.unresolved_import import UnresolvedImportRule

RULES = RuleSet(
    "node",
    [
        SyntaxErrorRule(),
        UnresolvedImportRule(),
        CaseMismatchRule(),
        MissingExportRule(),
        MissingPackageRule(),
        UndeclaredDependencyRule(),
        DevDependencyAtRuntimeRule(),
        CircularImportRule(),
        MissingImportAttributeRule(),
        RequireOfEsmRule(),
        UnknownFileExtensionRule(),
        MissingStartFileRule(),
        MissingNativeBindingRule(),
        BrowserGlobalRule(),
    ],
    tag="nodejs",
)

__all__ = ["RULES", "RuleContext"]
