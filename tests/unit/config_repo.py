"""Write small config repositories for tests and collect validate's findings as text."""

from __future__ import annotations

import textwrap
from pathlib import Path

from notifierd.validation import Validation, validate_repository

MINIMAL_ROUTES = """\
channels:
  ops-slack:
    type: slack
    token: ${SLACK_BOT_TOKEN}
    default_recipients: ["#ops"]
  ops-email:
    type: email
    host: ${SMTP_HOST}
    from: notifications@company.com
    default_recipients: ["ops@company.com"]
  pager: {type: pagerduty, routing_key: "${PAGERDUTY_ROUTING_KEY}"}
routes:
  - name: critical
    matchers: ['severity="critical"']
    channels: [ops-slack, pager]
    recipients: ["#incidents"]
  - name: default
    channels: [ops-slack]
"""

MINIMAL_TEMPLATE = """\
variables:
  type: object
  required: [environment]
  properties:
    environment: {type: string}
examples:
  - {environment: production}
subject: "Deployed to {{ environment }}"
text: |
  Environment: {{ environment }}
"""


def write_repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text) if not text.startswith("\n") else text)
    return root


def validate(root: Path, files: dict[str, str]) -> Validation:
    return validate_repository(write_repo(root, files), with_git=False)


def findings(root: Path, files: dict[str, str]) -> list[str]:
    """Every problem as ``path:line:col: message`` (warnings prefixed ``warning:``)."""
    return [str(p) for p in validate(root, files).problems]
