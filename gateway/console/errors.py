"""The console's exception tree.

ConsoleError               a page cannot be shown or an action cannot be done as asked; ``code`` is stable
└── UnknownText            a template asked the catalogue for a key it does not hold (a bug, caught by tests)
"""

from __future__ import annotations


class ConsoleError(Exception):
    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en


class UnknownText(ConsoleError):
    def __init__(self, key: str) -> None:
        super().__init__(
            "Console.UnknownText", f"Thiếu chuỗi giao diện {key!r}", f"No interface text for {key!r}"
        )
        self.key = key
