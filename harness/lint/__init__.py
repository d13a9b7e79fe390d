"""`shardproof lint`: what a stack's pipelines will do when a record fails, before (and after) a run.

- `lint_stack(desc, template, *, code_dirs=None)`: static rules over a StackDescription;
  `lint_synth(synth, desc)` the same over a synthesized stack, its code folders found in its assembly.
- `lint_run(entries, mapping_settings, *, mapping_uuid=None, mapping=None)`: the same rules,
  counted in a run's journal.
- `lint_text(findings)`: plain text. Every finding is a warning naming its spec section.
"""

from harness.lint.finding import RULES, Finding, Rule
from harness.lint.render import lint_text
from harness.lint.run_rules import lint_run
from harness.lint.stack_rules import lint_stack, lint_synth

__all__ = ["RULES", "Finding", "Rule", "lint_run", "lint_stack", "lint_synth", "lint_text"]
