"""Stubs of lumengate._core.persona."""

# keys part

class Vocabulary:
    def __init__(
        self,
        tones: list[str],
        paces: list[str],
        intents: list[str],
        synonyms: list[tuple[str, str]],
        tone_similarity: list[tuple[str, str, float]],
        intent_similarity: list[tuple[str, str, float]],
    ) -> None: ...
    def values(self, part: str) -> list[str]: ...
    @property
    def synonyms(self) -> list[tuple[str, str]]: ...
    def similarities(self, part: str) -> list[tuple[str, str, float]]: ...
    def similarity(self, part: str, a: str, b: str) -> float: ...

def parse_resonance_key(
    text: str, vocabulary: Vocabulary, lenient: bool = False
) -> tuple[str | None, str | None, str | None, list[tuple[str, str, str, str]]]: ...
def validate_resonance_key(
    text: str, vocabulary: Vocabulary
) -> list[tuple[str, str, str, list[str], str]]: ...
def match_score(
    tone: str | None,
    pace: str | None,
    intent: str | None,
    profile_tone: str | None,
    profile_pace: str | None,
    profile_intents: list[str],
    vocabulary: Vocabulary,
) -> float: ...

# router part





# scorer part
