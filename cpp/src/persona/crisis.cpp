#include "lumengate/persona/crisis.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string_view>
#include <utility>

#include "lumengate/assign/utf8.hpp"
#include "lumengate/persona/router_detail.hpp"
#include "lumengate/persona/text.hpp"

namespace lumengate::persona {

namespace {

#include "crisis_model.inc"

using Kind = CrisisDetector::Kind;

// Strong phrases always fire. English phrases need a word boundary before them only, so one
// stem covers its inflections; Korean phrases match anywhere in the compact text (spaces between
// Hangul removed), so particles and spacing variants attach.
constexpr std::array kStrong = {
    "overdose tonight",
    "how to overdose",
    "옥상에서 jump",
    "옥상에서뛰",
    // English: suicidal ideation, explicit
    "suicidal",
    "kill myself",
    "killing myself",
    "kil myself",
    "kill my self",
    "end my life",
    "ending my life",
    "end my own life",
    "end it all",
    "ending it all",
    "take my own life",
    "taking my own life",
    "take my life",
    "want to die",
    "wanna die",
    "wanted to die",
    "want to be dead",
    "wanna be dead",
    "wish i was dead",
    "wish i were dead",
    "better off dead",
    "rather be dead",
    "rather die",
    "should just die",
    "ready to die",
    "commit suicide",
    "unalive",
    "no reason to live",
    "nothing to live for",
    "reason to keep living",
    "don't want to live",
    "dont want to live",
    "do not want to live",
    "don't wanna live",
    "don't want to be alive",
    "dont want to be alive",
    "do not want to be alive",
    "tired of being alive",
    "tired of living",
    "sick of living",
    "done with life",
    "hate being alive",
    "life isn't worth",
    "life is not worth",
    "not worth living",
    "point of living",
    "point in living",
    "no point going on",
    "no point in going on",
    "can't go on",
    "cant go on",
    "can't do this anymore",
    "want out of this life",
    "stop existing",
    "rather not exist",
    "don't want to exist",
    "dont want to exist",
    "wish i had never been born",
    "wish i was never born",
    "wish i'd never been born",
    // English: indirect ideation, burdens, farewells, plans and means
    "better off without me",
    "better without me",
    "happier if i wasn't",
    "happier if i was gone",
    "happier without me",
    "relieved if i died",
    "if i died",
    "if i was gone",
    "if i were gone",
    "when i'm gone",
    "after i'm gone",
    "after i am gone",
    "i won't be around",
    "won't be around",
    "won't be here",
    "wont be here",
    "not be here next",
    "don't want to be here anymore",
    "dont want to be here anymore",
    "i'm a burden",
    "im a burden",
    "burden to everyone",
    "burden on everyone",
    "not wake up",
    "never wake up",
    "never wake",
    "don't wake up",
    "not want to wake up",
    "don't want to wake up",
    "dont want to wake up",
    "sleep forever",
    "go to sleep and never",
    "disappear forever",
    "disappear for good",
    "disappearing for good",
    "vanish forever",
    "end it tonight",
    "end it this",
    "end my suffering",
    "ending things",
    "want it all to stop",
    "want it to be over",
    "want it all to end",
    "except dying",
    "except to end",
    "painless way",
    "least painful way",
    "suicide note",
    "goodbye note",
    "goodbye letter",
    "saying goodbye to people",
    "my own funeral",
    "won't be around to",
    "pills lined up",
    "how many pills",
    "pills would it take",
    "take all my pills",
    "take all the pills",
    "around much longer",
    "thinking about jumping",
    "standing on the bridge",
    "front of a train",
    "noose",
    "hang myself",
    "hanging myself",
    "slit my wrist",
    "slit my",
    "slash my",
    "slashed my",
    "tonight is the night",
    "high enough to not survive",
    "not survive a fall",
    // English: self-harm
    "self-injur",
    "self injur",
    "hurt myself",
    "hurting myself",
    "harm myself",
    "harming myself",
    "cut myself",
    "cutting myself",
    "cut my arm",
    "cut my wrist",
    "cut my leg",
    "cut my thigh",
    "cuts on my",
    "cut again",
    "cutting again",
    "cut deeper",
    "burn myself",
    "burning myself",
    "burning my skin",
    "burn my skin",
    "burn my arm",
    "burning my arm",
    "punish myself",
    "punishing myself",
    "hit myself",
    "hitting myself",
    "starve myself",
    "starving myself",
    "scratch myself",
    "until i bleed",
    "until it bleeds",
    "until my hands bleed",
    "bang my head",
    "punch walls",
    "sh'd",  // English: abuse, violence and threats
    "abused me",
    "abuses me",
    "abusing me",
    "being abused",
    "was abused",
    "been abused",
    "sexually abused",
    "sexually assaulted",
    "molested",
    "molesting",
    "molests",
    "raped",
    "r*pe",
    "r*ped",
    "r@pe",
    "groped",
    "gropes me",
    "groping me",
    "hits me",
    "hit me again",
    "beaten by",
    "punches me",
    "punched me",
    "slaps me",
    "slapped me",
    "kicks me",
    "kicked me",
    "choked me",
    "chokes me",
    "choking me",
    "strangled me",
    "strangles me",
    "shoves me",
    "shoved me",
    "threatens to kill",
    "threatened to kill",
    "threatening to kill",
    "threatens to hurt",
    "threatened to hurt",
    "threatening to hurt",
    "threatening me",
    "threatens me",
    "sending me threats",
    "kill me if i",
    "he'd kill me",
    "she'd kill me",
    "afraid for my life",
    "scared for my life",
    "scared to go home",
    "afraid to go home",
    "lock me in",
    "locks me in",
    "locked me in",
    "touches me",
    "touched me",
    "touching me",
    "forced himself",
    "knows where i live",
    "stalking me",
    "stalks me",
    "throws things at me",
    "bruises from",
    "no one will believe me",  // Korean: suicidal ideation
    "자살하",
    "자살할",
    "자살했",
    "자살생각",
    "자살충동",
    "자살각",
    "자살시도",
    "자살방법",
    "자살계획",
    "죽고싶",
    "죽고시퍼",
    "죽고싶ㄷ",
    "주고싶",
    "죽구싶",
    "뒤지고싶",
    "디지고싶",
    "죽으려",
    "죽으면편",
    "죽으면다편",
    "죽으면좋",
    "죽으면어떨",
    "죽을까",
    "죽어야",
    "죽는게나",
    "죽는편이나",
    "죽어버리",
    "죽어버릴",
    "죽는생각",
    "죽을생각",
    "죽음생각",
    "죽을방법",
    "죽는방법",
    "죽을수있",
    "안아프게죽",
    "살고싶지않",
    "살고싶지가않",
    "살기싫",
    "사는게싫",
    "사는거싫",
    "사는거그만",
    "살이유",
    "살아야할이유",
    "살아야하는이유",
    "살아갈이유",
    "살의미",
    "살아갈의미",
    "사는의미가없",
    "삶이의미가없",
    "삶의의미가없",
    "그만살",
    "사라지고싶",
    "사라지는게나",
    "없어지고싶",
    "없어지면다들",
    "없어지면모두",
    "나하나없어져도",
    "없으면betteroff",
    "목숨을끊",
    "목숨끊",
    "생을마감",
    "생을끝",
    "삶을끝",
    "인생을끝",
    "인생끝낼",
    "인생끝내",
    "삶을포기",
    "인생을포기",
    "극단적선택",
    "극단선택",
    "극단적인선택",
    "극단적인생각",
    "뛰어내리",
    "뛰어내릴",
    "뛰어들고싶",
    "투신",
    "목을매",
    "목매",
    "목맬",
    "수면제를모",
    "수면제모아",
    "약을모아",
    "약을잔뜩",
    "약을한꺼번에",
    "한꺼번에먹",
    "한통다먹",
    "번개탄",
    "연탄을피",
    "세상을떠나고싶",
    "눈을뜨고싶지않",
    "눈뜨고싶지않",
    "깨어나고싶지않",
    "안깨어났으면",
    "안깼으면",
    "일어나지않았으면",
    "내일이안왔",
    "아침이안왔",
    "영원히잠들",
    "영원히안깼",
    "다끝내고싶",
    "다끝낼",
    "끝내고죽",
    "태어나지말",
    "태어나지않았",
    "짐일뿐",
    "짐만되",
    "짐이되",
    "얼굴보고떠나",
    "유서를",
    "유서써",
    "몇층에서떨어지면",
    "떨어지면죽",
    // Korean: self-harm
    "자해하",
    "자해했",
    "자해를",
    "자해충동",
    "자해흉터",
    "자해자국",
    "손목을긋",
    "손목을그",
    "손목긋",
    "손목그",
    "팔을그",
    "팔을긋",
    "허벅지를그",
    "긋고싶",
    "커터칼로",
    "면도칼",
    "몸에상처",
    "상처를내",
    "상처내",
    "팔에상처",
    "피가날때까지",
    "피날때까지",
    "피나게",
    "담뱃불로",
    "벽에박",
    "머리를박",
    "몸을때려",
    "몸을때리",
    "일부러굶",
    "벌주려",
    "나를해치",
    "저를해치",
    "스스로를해치",
    "해치고싶",
    // Korean: abuse, violence and threats
    "가정폭력을",
    "가정폭력당",
    "데이트폭력",
    "성폭행당",
    "성폭행을당",
    "성추행당",
    "성추행을당",
    "폭행당",
    "폭행을당",
    "폭력을당",
    "폭력이심",
    "맞고있",
    "맞고살",
    "맞아서멍",
    "나를때려",
    "날때려",
    "저를때려",
    "절때려",
    "저를때리",
    "나를때리",
    "때려요",
    "때립니다",
    "죽이겠다고",
    "죽인다고",
    "죽여버린",
    "죽여버리겠",
    "목을졸",
    "목졸",
    "방에가두",
    "가둬요",
    "협박해",
    "협박당",
    "협박을당",
    "저를만지",
    "나를만지",
    "몸을만",
    "몸만지",
    "강제로성",
    "강제로관계",
    "신체접촉",
    "흉기로",
    "학대당",
    "학대를당",
    "학대받",
    // Mixed script
    "cutting 하고싶",
    // Added with the development sets: means, attempts, and abbreviations in context.
    "front of a car",
    "front of a bus",
    "front of a truck",
    "car into",
    "drive into a wall",
    "crash my car",
    "use it on myself",
    "using it on myself",
    "commit suicide",
    "attempt suicide",
    "attempted suicide",
    "considering suicide",
    "contemplating suicide",
    "thinking about suicide",
    "thought about suicide",
    "suicide attempt",
    "beat me up",
    "ㅈㅅ하",
    "ㅈㅅ할",
    "ㅈㅅ각",
    "ㅈㅅ생각",
    "ㅈㅅ충동",
    "ㅈㅎ또",
    "또ㅈㅎ",
    "ㅈㅎ했",
    "ㅈㅎ하",
    "한테맞았",
    "한테맞고",
    "한테맞아",
    "한테맞는",
    "에게맞았",
    "에게맞고",
    "에게맞아",
};

// Weak phrases are topic words also used in study, news, fiction and technical text; they fire
// unless framing vetoes them.
constexpr std::array kWeak = {
    "self-harm",
    "self harm",
    "selfharm",
    "suicid",
    "overdose",
    "abusive",
    "abuse",
    "sexual assault",
    "domestic violence",
    "rape",
    "rope",
    "assault",
    "hurt me",
    "hit me",
    "threat",
    "want to disappear",
    "farewell",
    "자살",
    "자해",
    "학대",
    "가정폭력",
    "성폭력",
    "성폭행",
    "성추행",
    "성희롱",
    "폭행",
    "폭력",
    "치사량",
    "유서",
    "작별인사",
    "협박",
    "위협",
    "강간",
    "lethal",
    "last message",
    "final message",
    "relapsed",
    "razor blade",
    "jump off",
    "jumping off",
    "jump from",
    "jumping from",
    "touch me",
    "forced me",
    "inappropriately",
    "keep it secret",
    "nobody believes",
    "won't let me",
    "hurts me",
    "burns me",
    "no way out",
    "only way out",
    "how to die",
    "way to die",
    "think about death",
    "thinking about death",
    "end things",
    "giving away my",
    "gave away my",
    "won't need",
    "stockpil",
    "그었어",
    "그었다",
    "그었는데",
    "지졌",
    "마지막인사",
    "오늘이마지막",
    "죽을래",
    "사라져야",
    "없어져야",
    "멍이들",
    "때렸어",
    "스토킹",
    "kms",
};

// Framing that marks look-alike text (study, fiction, news, prevention work, technical
// "kill"); it vetoes weak phrases and the learned score, never strong evidence.
constexpr std::array kFraming = {
    "theme of",    "api",       "access",      "prevention",   "hotline",        "volunteer",
    "statistic",   "research",  "paper on",    "essay",        "article",        "novel",
    "fiction",     "story",     "character",   "villain",      "plot",           "scene",
    "film",        "movie",     "documentary", "review",       "chapter",        "summar",
    "pharmacolog", "toxicolog", "nursing",     "med school",   "medical school", "policy",
    "awareness",   "campaign",  "prevalence",  "literature",   "subtitle",       "translat",
    "lyrics",      "of power",  "rate limit",  "process",      "thread",         "server",
    "docker",      "sigterm",   "sigkill",     "social media", "counselor",      "email",
    "donate",      "예방",      "통계",        "자원봉사",     "논문",           "리포트",
    "보고서",      "에세이",    "소설",        "영화",         "드라마",         "대사",
    "장면",        "캐릭터",    "악당",        "뉴스",         "기사",           "요약",
    "교육",        "캠페인",    "약리학",      "독성학",       "약대",           "의대",
    "간호",        "번역",      "실태",        "신고절차",     "프로세스",       "서버",
    "명령어",      "정책",      "메일",        "퇴사",         "보안",
};

// Ordinary phrases that contain a crisis phrase ("suicide squad", 자살골 = own goal, 유서 깊은 =
// historic); a phrase lying wholly inside one of these is not reported.
constexpr std::array kExcluded = {
    "suicide squad",  "suicide burn", "자살골",
    "자해공갈",       "유서깊",       "jumping off point",
    "jump off point", "abuse of",     "substance abuse",
    "drug abuse",     "hit me up",    "hit me with",
    "0 kms",          "1 kms",        "2 kms",
    "3 kms",          "4 kms",        "5 kms",
    "6 kms",          "7 kms",        "8 kms",
    "9 kms",
};

// Korean abuse by a person: an agent followed closely by a violent or threatening verb.
constexpr std::array kKoAgents = {
    "남친",   "남자친구", "여친",     "여자친구", "남편",   "아내",   "와이프",   "애인", "아빠",
    "아버지", "엄마",     "어머니",   "부모",     "새아빠", "새엄마", "의붓",     "계부", "계모",
    "오빠",   "누나",     "언니",     "삼촌",     "이모부", "고모부", "할아버지", "친척", "선배",
    "상사",   "팀장",     "부장",     "과장",     "사장",   "교수",   "선생",     "코치", "감독",
    "담임",   "동료",     "시어머니", "시아버지", "그사람", "그놈",
};
constexpr std::array kKoAbuse = {
    "때리",   "때려", "때렸", "때릴", "팼",   "협박",   "죽여", "죽이겠",
    "죽인다", "가두", "가둬", "가뒀", "졸랐", "밀쳤",   "밀쳐", "발로찼",
    "걷어찼", "더듬", "감금", "흉기", "만졌", "만져요",
};
constexpr std::size_t kKoWindowBytes = 36;  // 12 Hangul syllables between agent and verb

// English token classes for the first-person and abuse patterns.
constexpr std::array<std::string_view, 9> kSelf = {"i",    "im",  "i'm",    "ive", "i've",
                                                   "i'll", "i'd", "myself", "me"};
constexpr std::array<std::string_view, 4> kEnding = {"die", "suicidal", "unalive", "kms"};
// A word between the subject and the verb that makes something else the one dying ("i think my
// laptop will die").
constexpr std::array<std::string_view, 14> kOtherSubject = {"my",  "the",   "this", "it",  "a",
                                                            "an",  "that",  "your", "his", "her",
                                                            "our", "their", "its",  "you"};
constexpr std::array<std::string_view, 3> kNotEnding = {"for", "of", "laughing"};
constexpr std::array<std::string_view, 38> kHarmVerbs = {
    "kill",     "kil",     "killing",  "end",     "ending",  "hurt",     "hurting", "harm",
    "harming",  "cut",     "cutting",  "burn",    "burning", "hang",     "hanging", "starve",
    "starving", "punish",  "hit",      "hitting", "stab",    "stabbing", "poison",  "poisoning",
    "shoot",    "drown",   "drowning", "choke",   "choking", "scratch",  "slash",   "slit",
    "beat",     "beating", "punch",    "injure",  "bruise",  "overdose"};
constexpr std::array<std::string_view, 34> kAgents = {
    "he",         "she",     "they",    "someone", "somebody", "boyfriend",  "bf",
    "girlfriend", "gf",      "husband", "wife",    "partner",  "ex",         "dad",
    "father",     "mom",     "mother",  "mum",     "stepdad",  "stepfather", "stepmom",
    "stepmother", "parents", "uncle",   "aunt",    "brother",  "sister",     "cousin",
    "boss",       "manager", "coach",   "teacher", "coworker", "step-dad"};
constexpr std::array<std::string_view, 36> kAbuseVerbs = {
    "hit",        "hits",   "hitting",  "beat",      "beats",   "beating", "punch",    "punches",
    "punched",    "slap",   "slaps",    "slapped",   "kick",    "kicks",   "kicked",   "choke",
    "chokes",     "choked", "strangle", "strangled", "push",    "pushed",  "shoved",   "grab",
    "grabbed",    "grope",  "groped",   "touch",     "touches", "touched", "threaten", "threatens",
    "threatened", "hurt",   "hurts",    "burns"};
constexpr std::array<std::string_view, 3> kObjects = {"me", "us", "my"};

template <std::size_t N>
bool in(const std::array<std::string_view, N>& set, std::string_view token) {
    return std::find(set.begin(), set.end(), token) != set.end();
}

bool is_hangul(char32_t cp) noexcept {
    return (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0x1100 && cp <= 0x11FF) ||
           (cp >= 0x3130 && cp <= 0x318F);
}

bool is_token_char(char32_t cp) noexcept {
    return is_latin_word_char(cp) || cp == U'\'' || cp == U'*' || cp == U'@' || cp == U'-';
}

void append_utf8(std::string& out, char32_t cp) {
    char buf[4];
    const std::size_t n = assign::encode_utf8(buf, cp);
    out.append(buf, n);
}

void compact_into(std::string_view text, std::string& out) {
    out.clear();
    std::size_t pos = 0;
    bool pending_space = false;
    char32_t last = 0;
    while (pos < text.size()) {
        char32_t cp = decode_valid(text, pos);
        if (is_space(cp)) {
            pending_space = !out.empty();
            continue;
        }
        if (cp == 0x2019 || cp == 0x2018) cp = U'\'';
        if (pending_space && !(is_hangul(last) && is_hangul(cp))) out.push_back(' ');
        pending_space = false;
        append_utf8(out, cp);
        last = cp;
    }
}

bool starts_latin(std::string_view phrase) {
    std::size_t pos = 0;
    return is_latin_word_char(assign::decode_utf8(phrase, pos));
}

bool latin_before(std::string_view text, std::size_t start) {
    if (start == 0) return false;
    std::size_t prev = start - 1;
    while (prev > 0 && (static_cast<unsigned char>(text[prev]) & 0xC0U) == 0x80U) --prev;
    std::size_t pos = prev;
    return is_latin_word_char(assign::decode_utf8(text, pos));
}

}  // namespace

std::string CrisisDetector::compact(std::string_view normalized) {
    // Public entry: text from outside is validated (decode_utf8 throws on malformed UTF-8)
    // before the unchecked decoder reads it.
    for (std::size_t pos = 0; pos < normalized.size();) assign::decode_utf8(normalized, pos);
    std::string out;
    compact_into(normalized, out);
    return out;
}

CrisisDetector::CrisisDetector() {
    const auto add = [this](const char* phrase, Kind kind) {
        patterns_.push_back(compact(fold(phrase, "crisis phrase")));
        kinds_.push_back(kind);
        latin_start_.push_back(starts_latin(patterns_.back()) ? 1 : 0);
        if (kind == Kind::strong || kind == Kind::weak) phrases_.push_back(patterns_.back());
    };
    for (const char* p : kStrong) add(p, Kind::strong);
    for (const char* p : kWeak) add(p, Kind::weak);
    for (const char* p : kFraming) add(p, Kind::framing);
    for (const char* p : kExcluded) add(p, Kind::excluded);
    for (const char* p : kKoAgents) add(p, Kind::ko_agent);
    for (const char* p : kKoAbuse) add(p, Kind::ko_abuse);
    automaton_ = AhoCorasick(patterns_);
    weights_.assign(kModelBuckets, 0.0F);
    for (std::size_t i = 0; i < kModelIndex.size(); ++i) weights_[kModelIndex[i]] = kModelWeight[i];
}

double CrisisDetector::model_threshold() noexcept { return kModelThreshold; }

// Learned model features: every 2- to 4-code-point window of " " + compact text + " ", hashed
// (FNV-1a, 32 bit, over its UTF-8 bytes) into kModelBuckets buckets, counts L2-normalised.
double CrisisDetector::logit(std::string_view compacted) const {
    struct Scratch {
        std::string padded;
        std::vector<std::size_t> starts;
        std::vector<std::uint32_t> buckets, spare;
    };
    thread_local Scratch scratch;
    auto& [padded, starts, buckets, spare] = scratch;
    padded.assign(1, ' ');
    padded.append(compacted);
    padded.push_back(' ');
    starts.clear();
    for (std::size_t pos = 0; pos < padded.size();) {
        starts.push_back(pos);
        decode_valid(padded, pos);
    }
    starts.push_back(padded.size());
    const std::size_t cps = starts.size() - 1;
    buckets.clear();
    // FNV-1a is a running hash, so the 2-, 3- and 4-grams starting at one code point are the
    // same hash fed one more code point each time: one pass, no per-gram rehashing.
    for (std::size_t i = 0; i + 2 <= cps; ++i) {
        std::uint32_t h = 2166136261U;
        for (std::size_t n = 1; n <= 4 && i + n <= cps; ++n) {
            for (std::size_t b = starts[i + n - 1]; b < starts[i + n]; ++b) {
                h ^= static_cast<unsigned char>(padded[b]);
                h *= 16777619U;
            }
            if (n >= 2) buckets.push_back(h & (kModelBuckets - 1U));
        }
    }
    if (buckets.empty()) return kModelBias;
    // Sorted, equal buckets are runs (their counts) and the weights are read in address order.
    detail::sort_keys(buckets, spare, kModelBuckets - 1U);
    double dot = 0.0;
    double squares = 0.0;
    for (std::size_t i = 0; i < buckets.size();) {
        std::size_t j = i + 1;
        while (j < buckets.size() && buckets[j] == buckets[i]) ++j;
        const auto count = static_cast<double>(j - i);
        dot += count * static_cast<double>(weights_[buckets[i]]);
        squares += count * count;
        i = j;
    }
    return kModelBias + dot / std::sqrt(squares);
}

double CrisisDetector::model_score(std::string_view normalized) const {
    thread_local std::string text;
    compact_into(normalized, text);
    return 1.0 / (1.0 + std::exp(-logit(text)));
}

CrisisVerdict CrisisDetector::analyse(std::string_view text, std::vector<std::string>* evidence,
                                      bool stop_at_strong) const {
    thread_local std::vector<std::pair<std::size_t, std::size_t>> hits;  // (pattern, end)
    thread_local std::vector<std::pair<std::size_t, std::size_t>> excluded;
    thread_local std::vector<std::pair<std::size_t, std::size_t>> agent_ends;  // (pattern, end)
    thread_local std::vector<std::string_view> tokens;
    hits.clear();
    excluded.clear();
    agent_ends.clear();
    bool strong = false;
    bool weak = false;
    bool framing = false;
    automaton_.for_each_match(text, [&](std::size_t p, std::size_t end) {
        const std::size_t start = end - patterns_[p].size();
        if (latin_start_[p] != 0 && latin_before(text, start)) return;
        switch (kinds_[p]) {
            case Kind::excluded:
                excluded.emplace_back(start, end);
                break;
            case Kind::framing:
                framing = true;
                break;
            case Kind::ko_agent:
                agent_ends.emplace_back(p, end);
                break;
            case Kind::ko_abuse:
                for (const auto& [agent, a] : agent_ends) {
                    if (a <= start && start - a <= kKoWindowBytes) {
                        strong = true;
                        if (evidence != nullptr) {
                            evidence->push_back("pattern: " + patterns_[agent] + " … " +
                                                patterns_[p]);
                        }
                        break;
                    }
                }
                break;
            case Kind::strong:
            case Kind::weak:
                hits.emplace_back(p, end);
                break;
        }
    });
    std::vector<std::string> weak_phrases;
    for (const auto& [p, end] : hits) {
        const std::size_t start = end - patterns_[p].size();
        const bool inside = std::any_of(excluded.begin(), excluded.end(), [&](const auto& span) {
            return span.first <= start && end <= span.second;
        });
        if (inside) continue;
        if (kinds_[p] == Kind::strong) {
            strong = true;
            if (stop_at_strong) return CrisisVerdict{true, false, framing};
            if (evidence == nullptr) continue;
            if (std::find(evidence->begin(), evidence->end(), patterns_[p]) == evidence->end()) {
                evidence->push_back(patterns_[p]);
            }
        } else {
            weak = true;
            if (evidence != nullptr && std::find(weak_phrases.begin(), weak_phrases.end(),
                                                 patterns_[p]) == weak_phrases.end()) {
                weak_phrases.push_back(patterns_[p]);
            }
        }
    }
    if (strong && stop_at_strong) return CrisisVerdict{true, weak, framing};

    // English first-person and abuse patterns over word tokens.
    tokens.clear();
    for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t begin = pos;
        const char32_t cp = assign::decode_utf8(text, pos);
        if (!is_token_char(cp)) continue;
        std::size_t end = pos;
        while (end < text.size()) {
            std::size_t next = end;
            if (!is_token_char(assign::decode_utf8(text, next))) break;
            end = next;
        }
        tokens.emplace_back(text.data() + begin, end - begin);
        pos = end;
    }
    const auto note = [&](std::string_view a, std::string_view b) {
        strong = true;
        if (evidence != nullptr) {
            evidence->push_back("pattern: " + std::string(a) + " … " + std::string(b));
        }
    };
    for (std::size_t i = 0; i < tokens.size() && !(strong && stop_at_strong); ++i) {
        const std::string_view t = tokens[i];
        if (in(kEnding, t) && !(i + 1 < tokens.size() && in(kNotEnding, tokens[i + 1]))) {
            for (std::size_t j = i; j-- > 0 && i - j <= 6;) {
                if (in(kOtherSubject, tokens[j])) break;
                if (in(kSelf, tokens[j]) && tokens[j] != "me" && tokens[j] != "myself") {
                    note(tokens[j], t);
                    break;
                }
            }
        }
        if (t == "myself" || (t == "self" && i > 0 && tokens[i - 1] == "my")) {
            for (std::size_t j = i; j-- > 0 && i - j <= 3;) {
                if (in(kHarmVerbs, tokens[j])) {
                    note(tokens[j], t);
                    break;
                }
            }
        }
        if (in(kObjects, t)) {
            for (std::size_t v = i; v-- > 0 && i - v <= 2;) {
                if (!in(kAbuseVerbs, tokens[v])) continue;
                for (std::size_t a = v; a-- > 0 && v - a <= 4;) {
                    if (in(kAgents, tokens[a])) {
                        note(tokens[a], tokens[v]);
                        break;
                    }
                }
                break;
            }
        }
    }
    if (strong && evidence != nullptr && !framing) {
        evidence->insert(evidence->end(), weak_phrases.begin(), weak_phrases.end());
    }
    if (!strong && !framing && weak && evidence != nullptr) {
        evidence->insert(evidence->end(), weak_phrases.begin(), weak_phrases.end());
    }
    return CrisisVerdict{strong, weak, framing};
}

bool CrisisDetector::decide(const CrisisVerdict& v, std::string_view compacted,
                            std::vector<std::string>* evidence) const {
    if (v.strong) return true;
    if (v.framing) return false;
    if (v.weak) return true;
    const double probability = 1.0 / (1.0 + std::exp(-logit(compacted)));
    if (probability < kModelThreshold) return false;
    if (evidence != nullptr) {
        std::array<char, 32> buf{};
        std::snprintf(buf.data(), buf.size(), "model: %.2f", probability);
        evidence->emplace_back(buf.data());
    }
    return true;
}

CrisisVerdict CrisisDetector::lexicon(std::string_view normalized) const {
    thread_local std::string text;
    compact_into(normalized, text);
    return analyse(text, nullptr, false);
}

std::vector<std::string> CrisisDetector::matches(std::string_view normalized) const {
    thread_local std::string text;
    compact_into(normalized, text);
    std::vector<std::string> out;
    const CrisisVerdict v = analyse(text, &out, false);
    if (!decide(v, text, &out)) out.clear();
    return out;
}

bool CrisisDetector::detect(std::string_view normalized) const {
    thread_local std::string text;
    compact_into(normalized, text);
    return decide(analyse(text, nullptr, true), text, nullptr);
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
