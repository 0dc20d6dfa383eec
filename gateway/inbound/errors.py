"""Errors of the inbound service. Each `code` becomes the SOAP faultcode `Client.<code>`.

IntakeError
├── PetitionExists    same PetitionId, different content (changes travel as SubmitPetitionUpdate)
├── UnknownPetition   an update, feedback or query for a petition the ministry never received
└── UnknownAnswer     feedback on an answer the ministry never gave
(Domain errors — InvalidTransition, WrongUnit — pass through with their own codes.)
"""


class IntakeError(Exception):
    code = "Intake"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PetitionExists(IntakeError):
    code = "PetitionExists"


class UnknownPetition(IntakeError):
    code = "UnknownPetition"


class UnknownAnswer(IntakeError):
    code = "UnknownAnswer"
