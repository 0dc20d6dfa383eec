"""Domain exception tree.

DomainError (code)
├── InvalidTransition   a status change the case state machine forbids
├── WrongUnit           a unit acted on a case it does not hold
├── RoutingConfigError  the routing data (units, fields, rules) is inconsistent
├── InvalidPetition     a petition breaks a rule the XML schema cannot express
└── CalendarError       a working-day computation outside the calendar's data (or a naive instant)
"""


class DomainError(Exception):
    """Base of every domain error; `code` is stable and travels into faults and problem bodies."""

    code = "Domain"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidTransition(DomainError):
    code = "InvalidTransition"


class WrongUnit(DomainError):
    code = "WrongUnit"


class RoutingConfigError(DomainError):
    code = "RoutingConfigInvalid"


class InvalidPetition(DomainError):
    code = "InvalidPetition"


class CalendarError(DomainError):
    code = "Calendar.OutOfRange"
