#!/usr/bin/env python3
"""Writes the sample mentoring catalog shipped as package data (HybridScorer.sample()).

Deterministic: the same seed gives byte-identical files. Run from the repository root:
``python scripts/make_sample_catalog.py`` rewrites python/lumengate/data/catalog/items.json and
interactions.csv. Items cover the four personas' topics in English and Korean; every item's
own persona gets an affinity in [0.75, 1] and the others in [0, 0.35]. Each of 50 synthetic
users leans to one persona and interacts mostly with that persona's items.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from pathlib import Path

SEED = 20260401
PERSONAS = ("lua", "elro", "riri", "nana")
KINDS = ("course", "article", "template", "exercise")
N_USERS = 50

# (persona, lang, title, tags, description) — five topics per persona and language.
TOPICS: list[tuple[str, str, str, list[str], str]] = [
    (
        "lua",
        "en",
        "Working through burnout",
        ["burnout", "stress", "rest"],
        "Notice the early signs of burnout and plan recovery time without guilt.",
    ),
    (
        "lua",
        "en",
        "Calming exam anxiety",
        ["anxiety", "exams", "breathing"],
        "Breathing and grounding routines for the week before an exam.",
    ),
    (
        "lua",
        "en",
        "Quieting self-doubt",
        ["self-doubt", "confidence", "reflection"],
        "Reflection prompts that separate evidence from the inner critic.",
    ),
    (
        "lua",
        "en",
        "Feeling less lonely at a new job",
        ["loneliness", "belonging"],
        "Small steps toward connection when you start somewhere new.",
    ),
    (
        "lua",
        "en",
        "Finding motivation again",
        ["motivation", "habits", "energy"],
        "Rebuild motivation with tiny wins and a gentle weekly review.",
    ),
    (
        "lua",
        "ko",
        "번아웃에서 회복하기",
        ["번아웃", "스트레스", "휴식"],
        "번아웃의 초기 신호를 알아차리고 죄책감 없이 쉬는 시간을 계획합니다.",
    ),
    (
        "lua",
        "ko",
        "시험 불안 다스리기",
        ["불안", "시험", "호흡"],
        "시험 전 일주일 동안 할 수 있는 호흡과 그라운딩 루틴.",
    ),
    (
        "lua",
        "ko",
        "자기 의심 줄이기",
        ["자기의심", "자신감", "성찰"],
        "내면의 비판과 사실을 구분하는 성찰 질문들.",
    ),
    (
        "lua",
        "ko",
        "새 직장에서 외로움 덜기",
        ["외로움", "소속감"],
        "새로운 곳에서 관계를 만드는 작은 걸음.",
    ),
    (
        "lua",
        "ko",
        "다시 동기 찾기",
        ["동기부여", "습관", "에너지"],
        "작은 성공과 주간 회고로 동기를 되살립니다.",
    ),
    (
        "elro",
        "en",
        "Debugging Python KeyError",
        ["python", "debugging", "errors"],
        "Read the traceback, inspect the dictionary and fix missing keys safely.",
    ),
    (
        "elro",
        "en",
        "SQL query tuning basics",
        ["sql", "database", "performance"],
        "Use EXPLAIN, indexes and joins to speed up slow database queries.",
    ),
    (
        "elro",
        "en",
        "Git branching without fear",
        ["git", "tools", "version control"],
        "Branch, rebase and resolve merge conflicts step by step.",
    ),
    (
        "elro",
        "en",
        "Docker for local development",
        ["docker", "containers", "systems"],
        "Build images and compose services for a reproducible dev setup.",
    ),
    (
        "elro",
        "en",
        "Writing unit tests with pytest",
        ["testing", "python", "pytest"],
        "Fixtures, parametrisation and assertions that catch regressions.",
    ),
    (
        "elro",
        "ko",
        "파이썬 KeyError 디버깅",
        ["파이썬", "디버깅", "오류"],
        "트레이스백을 읽고 딕셔너리를 점검해 누락된 키를 안전하게 고칩니다.",
    ),
    (
        "elro",
        "ko",
        "SQL 쿼리 튜닝 기초",
        ["SQL", "데이터베이스", "성능"],
        "EXPLAIN과 인덱스로 느린 쿼리를 빠르게 만듭니다.",
    ),
    (
        "elro",
        "ko",
        "두려움 없는 Git 브랜치",
        ["Git", "도구", "버전관리"],
        "브랜치, 리베이스, 병합 충돌 해결을 단계별로 익힙니다.",
    ),
    (
        "elro",
        "ko",
        "로컬 개발을 위한 도커",
        ["도커", "컨테이너", "시스템"],
        "이미지를 만들고 서비스를 구성해 재현 가능한 개발 환경을 만듭니다.",
    ),
    (
        "elro",
        "ko",
        "pytest로 단위 테스트 작성",
        ["테스트", "파이썬", "pytest"],
        "회귀를 잡는 픽스처와 매개변수화, 단언문.",
    ),
    (
        "riri",
        "en",
        "Choosing between two job offers",
        ["career", "decision", "offers"],
        "Compare offers with a weighted decision matrix and a regret test.",
    ),
    (
        "riri",
        "en",
        "A one-year learning roadmap",
        ["roadmap", "planning", "goals"],
        "Turn a career goal into quarterly milestones and monthly projects.",
    ),
    (
        "riri",
        "en",
        "Reading industry trends",
        ["trends", "industry", "ai"],
        "Separate lasting shifts from hype when planning your next skills.",
    ),
    (
        "riri",
        "en",
        "Switching careers into data",
        ["career change", "data", "plan"],
        "Map transferable skills and plan a portfolio for a move into data roles.",
    ),
    (
        "riri",
        "en",
        "Setting goals that stick",
        ["goals", "okr", "planning"],
        "Write goals with measurable outcomes and review them every month.",
    ),
    (
        "riri",
        "ko",
        "두 개의 입사 제안 중 선택하기",
        ["커리어", "결정", "제안"],
        "가중치 의사결정 표와 후회 테스트로 제안을 비교합니다.",
    ),
    (
        "riri",
        "ko",
        "1년 학습 로드맵 만들기",
        ["로드맵", "계획", "목표"],
        "커리어 목표를 분기별 이정표와 월간 프로젝트로 나눕니다.",
    ),
    (
        "riri",
        "ko",
        "산업 트렌드 읽기",
        ["트렌드", "산업", "AI"],
        "다음 역량을 계획할 때 일시적 유행과 지속적 변화를 구분합니다.",
    ),
    (
        "riri",
        "ko",
        "데이터 직무로 전직하기",
        ["전직", "데이터", "계획"],
        "옮길 수 있는 역량을 정리하고 포트폴리오를 계획합니다.",
    ),
    (
        "riri",
        "ko",
        "지속되는 목표 세우기",
        ["목표", "OKR", "계획"],
        "측정 가능한 결과로 목표를 쓰고 매달 점검합니다.",
    ),
    (
        "nana",
        "en",
        "Cover letters that get read",
        ["cover letter", "writing", "jobs"],
        "Open with impact, match the role and close with a clear ask.",
    ),
    (
        "nana",
        "en",
        "Editing your own drafts",
        ["editing", "proofreading", "drafts"],
        "A three-pass editing checklist for structure, clarity and typos.",
    ),
    (
        "nana",
        "en",
        "Professional emails in five lines",
        ["email", "communication"],
        "Subject, context, request, deadline and thanks — nothing more.",
    ),
    (
        "nana",
        "en",
        "Summarising long documents",
        ["summary", "reading", "notes"],
        "Pull the key claims, evidence and decisions into one page.",
    ),
    (
        "nana",
        "en",
        "Slides that tell a story",
        ["slides", "presentation", "storytelling"],
        "One message per slide and a narrative arc for technical talks.",
    ),
    (
        "nana",
        "ko",
        "읽히는 자기소개서 쓰기",
        ["자기소개서", "글쓰기", "취업"],
        "임팩트 있는 첫 문장과 직무 맞춤, 명확한 마무리.",
    ),
    (
        "nana",
        "ko",
        "내 초안 스스로 교정하기",
        ["교정", "퇴고", "초안"],
        "구조, 명료성, 오타를 위한 세 번의 퇴고 체크리스트.",
    ),
    (
        "nana",
        "ko",
        "다섯 줄 업무 이메일",
        ["이메일", "소통"],
        "제목, 맥락, 요청, 기한, 감사 인사만 담습니다.",
    ),
    (
        "nana",
        "ko",
        "긴 문서 요약하기",
        ["요약", "읽기", "노트"],
        "핵심 주장과 근거, 결정을 한 페이지로 정리합니다.",
    ),
    (
        "nana",
        "ko",
        "이야기가 있는 발표 자료",
        ["발표", "슬라이드", "스토리텔링"],
        "슬라이드마다 하나의 메시지와 기술 발표의 서사 구조.",
    ),
]

KIND_PREFIX = {
    "en": {
        "course": "Course",
        "article": "Article",
        "template": "Template",
        "exercise": "Exercise",
    },
    "ko": {"course": "강의", "article": "아티클", "template": "템플릿", "exercise": "실습"},
}


def make_items(rng: random.Random) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    for number, (persona, lang, title, tags, description) in enumerate(TOPICS):
        # Two kinds per topic: 80 items in all.
        for kind in rng.sample(KINDS, 2):
            affinity = {
                p: round(rng.uniform(0.75, 1.0) if p == persona else rng.uniform(0.0, 0.35), 2)
                for p in PERSONAS
            }
            items.append(
                {
                    "id": f"{persona}-{lang}-{number:02d}-{kind}",
                    "kind": kind,
                    "lang": lang,
                    "title": f"{KIND_PREFIX[lang][kind]}: {title}",
                    "tags": tags,
                    "description": description,
                    "affinity": affinity,
                }
            )
    return items


def make_interactions(
    rng: random.Random, items: list[dict[str, object]]
) -> list[tuple[str, str, int]]:
    by_persona = {p: [i["id"] for i in items if str(i["id"]).startswith(p + "-")] for p in PERSONAS}
    everything = [str(i["id"]) for i in items]
    rows: list[tuple[str, str, int]] = []
    for user in range(N_USERS):
        persona = PERSONAS[user % len(PERSONAS)]
        chosen: set[str] = set()
        for _ in range(rng.randint(4, 10)):
            pool = by_persona[persona] if rng.random() < 0.8 else everything
            chosen.add(str(rng.choice(pool)))
        for item_id in sorted(chosen):
            rows.append((f"user{user:02d}", item_id, rng.randint(1, 5)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    default = Path(__file__).resolve().parent.parent / "python" / "lumengate" / "data" / "catalog"
    parser.add_argument("--out", type=Path, default=default)
    args = parser.parse_args()
    rng = random.Random(SEED)
    items = make_items(rng)
    rows = make_interactions(rng, items)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "items.json").write_text(
        json.dumps(items, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    with (args.out / "interactions.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["user_id", "item_id", "weight"])
        writer.writerows(rows)


if __name__ == "__main__":
    main()
