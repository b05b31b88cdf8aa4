"""Keys and screens at a glance (? or F1)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# mqctl — keys

| Where | Key | Action |
|---|---|---|
| everywhere | `q` | quit |
| | `?` / `F1` | this help |
| | `ctrl+p` | command palette (every action, every topic/queue/group) |
| | `c` | switch context |
| | `r` | refresh now |
| | `space` | pause / resume auto-refresh |
| | `escape` | back / close |
| tables | `/` | filter as you type (words must all match; escape clears) |
| | `s` / `S` | sort by the next column / reverse (or click a header) |
| | `enter` | open the selected row |
| dashboard | `1`–`4` | groups, queues, topics, DLQ panel |
| | `m` | browse messages of the selected topic/queue |
| | `p` | publish to it (hidden in read-only contexts) |
| | `d` | DLQ inspect |
| | `o` | reset offsets of the selected group (dry-run plan first) |
| | `h` | doctor: the on-call checklist (also "Doctor" in the palette) |
| doctor | `r` | run the checklist again (evidence of the highlighted finding below) |
| message browser | `enter` | reload with the start position and filters |
| | `v` | cycle view: pretty / raw text / hex |
| publish form | `ctrl+s` | publish |
| DLQ | `R` | redrive (plan, confirm, progress; escape cancels) |

Panels refresh in the background every few seconds. A broker that cannot be reached
shows **disconnected, retrying** in its panels (the last data stays visible) and
they recover by themselves. Errors appear as notifications.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)

    def action_close(self) -> None:
        self.dismiss(None)
