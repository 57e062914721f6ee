"""Schemathesis hooks of the contract test (app/tests/it/contract.rs), loaded through
SCHEMATHESIS_HOOKS.

`positive_data_acceptance` judges a refusal of schema-valid data by its status alone, while
this service tells its refusals apart by the `code` of `{"error": {"code", "message"}}`: a 422
`reference_not_found` is a refusal no schema can express, a 422 of another code is not. This
check closes that gap: it fails a schema-valid request refused with a status of `codes` unless
the answer's code is one listed for that status. The lists live in schemathesis.toml
(`[checks.RefusalCodes]`), next to the statuses they refine.
"""

import schemathesis


@schemathesis.check
class RefusalCodes:
    """A schema-valid request refused with a listed status must give one of that status's codes."""

    def __init__(self, codes=None):
        # TOML keys are strings: {"409": ["duplicate", ...]} becomes {409: {"duplicate", ...}}.
        self.codes = {int(status): set(names) for status, names in (codes or {}).items()}

    def after_response(self, ctx, response, case):
        meta = case.meta
        if meta is None or not meta.generation.mode.is_positive:
            return None
        allowed = self.codes.get(response.status_code)
        if allowed is None:
            return None
        try:
            code = response.json()["error"]["code"]
        except Exception:  # not JSON, or not an error body: say so rather than crash the run
            code = None
        if code not in allowed:
            raise AssertionError(
                f"Schema-valid request refused with {response.status_code} `{code}`; "
                f"a {response.status_code} is an accepted refusal only as {', '.join(sorted(allowed))}"
            )
        return None
