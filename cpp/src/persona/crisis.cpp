#include "lumengate/persona/crisis.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string_view>
#include <utility>

#include "lumengate/assign/utf8.hpp"
#include "lumengate/common/scratch.hpp"
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

    "얼굴보고떠나",
    "유서써",
    "몇층에서떨어지면",
    "떨어지면죽",
    // Korean: self-harm
    "자해하",
    "자해했",
    "자해해",
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
    "에게맞았",
    "에게맞고",
    "에게맞아",
    // Indirect ideation by family: others better off, no future, last times, passive wishes to
    // die, farewells and putting affairs in order.
    "if i wasn't here",
    "if i wasn't around",
    "if i weren't here",
    "if i weren't around",
    "if i was not here",
    "if i were not here",
    "without me around",
    "if i disappeared",
    "if i just disappeared",
    "nobody would miss me",
    "no one would miss me",
    "nobody would even miss",
    "no one would even miss",
    "no one would notice if i",
    "nobody would notice if i",
    "no one would even notice if i",
    "nobody would care if i",
    "no one would care if i",
    "wouldn't miss me",
    "be alive anymore",
    "wanna be alive",
    "last birthday",
    "last week alive",
    "last day alive",
    "last night alive",
    "alive anyway",
    "bleed out",
    "bleeding out",
    "fall to be fatal",
    "enough to not wake",
    "enough to never wake",
    "that you don't come back",
    "sleep for good",
    "gone for good",
    "check out for good",
    "hope i get hit",
    "hoping i get hit",
    "wish i'd get hit",
    "wish i would get hit",
    "plane crashes",
    "plane would crash",
    "taking up space",
    "waste of space",
    "waste of oxygen",
    "deserve to live",
    "edge of the roof",
    "edge of the bridge",
    "on the ledge",
    "driving off the road",
    "drive off the road",
    "drive off a cliff",
    "driving off a cliff",
    "walk into traffic",
    "step into traffic",
    "end everything",
    "ending everything",
    "tried to od",
    "try to od",
    "overdosed",
    "tried to hang",
    "not going to be here",
    "everything to stop",
    "everything to end",
    "it all to end",
    "everything to just stop",
    "by not existing",
    "tired of existing",
    "sick of existing",
    "letters to everyone",
    "for my funeral",
    "don't care what happens to me",
    "not have to wake up",
    "never have to wake",
    // Self-harm by family: bleeding, cutting into skin, hiding wounds, urges and relapse.
    "till they bleed",
    "till it bleeds",
    "till i bleed",
    "until they bleed",
    "til it bleeds",
    "til they bleed",
    "into my skin",
    "fresh cuts",
    "new cuts",
    "hide my scars",
    "hide the scars",
    "hide scars",
    "hide my cuts",
    "hide the cuts",
    "urge to sh",
    "urges to sh",
    "sh again",
    "sh urge",
    "slam my hand",
    "slam my head",
    "did to myself",
    "did to my arms",
    "did to my body",
    // Abuse by family: coercive control, stalking, image-based abuse, sexual violence, children.
    "goes through my messages",
    "goes through my phone",
    "tracker on my",
    "follows me home",
    "followed me home",
    "following me home",
    "posted my nudes",
    "my nudes",
    "nudes of me",
    "deepfake porn",
    "revenge porn",
    "send my private",
    "my private pictures",
    "my private photos",
    "pinned me",
    "held me down",
    "holds me down",
    "when i said no",
    "when i say no",
    "makes me kneel",
    "makes me strip",
    "makes us strip",
    "if i ever leave",
    "into my room at night",
    "starve me",
    "starving me",
    "spiked my drink",
    "got drugged",
    "was drugged",
    "what he'll do to me",
    "what she'll do to me",
    "our little secret",
    "it's our secret",
    "getting beaten",
    "control all the money",
    "controls all the money",
    "controls my money",
    "have to beg for",
    "walking on eggshells",
    "screams at me",
    "breaks my stuff",
    "make sure i never see",
    // Korean, by family.
    "자해각",
    "ㅈㅅ마렵",
    "자살마렵",
    "죽고마렵",
    "ㅈㅎ각",
    "ㅈㅎ마렵",
    "살아서뭐",
    "살아봤자",
    "살가치가없",
    "살가치없",
    "살자격이없",
    "살아갈자격",
    "살아있는의미",
    "살아있을이유",
    "더있을이유",
    "없는게나",
    "없는게낫",
    "안일어났으면",
    "안깨어나면",
    "깨어나지않",
    "깨어나지말",
    "생은여기까지",
    "삶은여기까지",
    "인생여기까지",
    "뛰어들까",
    "뛰어들어버",
    "뛰어들면",
    "약모아둔",
    "모아둔약",
    "모아둔수면제",
    "약모아놨",
    "스스로때리",
    "스스로를때리",
    "자신을아프게",
    "몸을아프게",
    "긋고나면",
    "일부러토",
    "몰카",
    "불법촬영",
    "손찌검",
    "밥을안줘",
    "밥도안줘",
    "밥도안주",
    "밥을안주",
    "굶겨",
    "돈가져오라",
    "돈뺏",
    "목을잡고",
    "벽에밀",
    "위치추적",
    "다끝내버리",
    "끝내버리고싶",
    "살아있는게고통",
    "사는게고통",
    "whole bottle of",
    "entire bottle of",
    "the whole bottle",
    "all my pills",
    "all of my pills",
    "drowning hurt",
    "hanging hurt",
    "does drowning",
    "does hanging",
    "front of the train",
    "front of a subway",
    "front of the subway",
    "front of traffic",
    "front of a moving",
    "on being around",
    "be around by the end",
    "until my knuckles",
    "knuckles bleed",
    "punch the wall",
    "punching the wall",
    "punching walls",
    "to self-harm",
    "to self harm",
    "i self-harm",
    "i self harm",
    "razor again",
    "blade again",
    "deserve the pain",
    "deserve to hurt",
    "deserve pain",
    "what i did to my",
    "bruises on my",
    "bruise on my",
    "if i tell anyone",
    "if you tell anyone",
    "don't care what happens",
    "dont care what happens",
    "he'll kill me",
    "he will kill me",
    "she'll kill me",
    "she will kill me",
    "he's going to kill me",
    "she's going to kill me",
    "said he'd kill me",
    "said he would kill me",
    "will kill me if",
    "gonna kill me if",
    "going to kill me if",
    "writing my will",
    "wrote my will",
    "written my will",
    "a plan and a date",
    "last goodbye",
    "죽을거",
    "죽을게",
    "죽을꺼",
    "방법도정해",
    "방법을정해",
    "눈안떴으면",
    "눈을안떴으면",
    "눈안뜨면좋",
    "안떴으면",
    "저없을거",
    "나없을거",
    "주변정리",
    "신변정리",
    "사라질거",
    "세상에서사라",
    "살아야할 reason",
    // Further families: giving up on life, lethal amounts, pesticide, slang for cutting, leaving
    // the world, image-based abuse in Korean.
    "can't take it anymore",
    "cant take it anymore",
    "can't take this anymore",
    "give up on life",
    "given up on life",
    "giving up on life",
    "gave up on life",
    "mind dying",
    "mind if i died",
    "enough to kill me",
    "take to die",
    "takes to die",
    "sh scar",
    "sh marks",
    "spyware on my",
    "stalkerware",
    "차라리죽",
    "차라리없어",
    "차라리사라",
    "차라리태어나지",
    "죽는게낫",
    "동맥을",
    "동맥끊",
    "농약마시",
    "농약을마시",
    "농약먹",
    "농약을먹",
    "제초제마시",
    "제초제먹",
    "세상을등지",
    "세상등지",
    "칼빵",
    "그어버리",
    "사진요구",
    "사진을요구",
    "지인능욕",
    "리벤지포르노",
    // Families added with the third development set: burden and relief without me, no longer
    // being here, not waking, no point, affairs put in order, means by quantity, self-punishment.
    "my suicide note",
    "a suicide note for",
    "writing a suicide note",
    "write a suicide note",
    "wrote a suicide note",
    "written a suicide note",
    "my goodbye note",
    "데이트폭력당",
    "데이트폭력을당",
    "won't wake up",
    "wont wake up",
    "not open my eyes",
    "never open my eyes",
    "point of waking",
    "point in waking",
    "reason to wake up",
    "point of getting up",
    "point of any of it",
    "point of it all anymore",
    "i don't matter to anyone",
    "how little i matter",
    "deal with me anymore",
    "deal with me ever again",
    "with me gone",
    "once i'm gone",
    "no longer be here",
    "out of the picture permanently",
    "out of the picture for good",
    "gone permanently",
    "disappear permanently",
    "nothing left to stay",
    "don't want to do this anymore",
    "dont want to do this anymore",
    "do to my arms",
    "do to my legs",
    "do to my body",
    "do to my skin",
    "do to myself",
    "like a barcode",
    "until it welts",
    "until they welt",
    "need the pain",
    "deserve to look normal",
    "don't deserve food",
    "before my heart stops",
    "counting my pills",
    "counting my sleeping pills",
    "살아서뭐하",
    "살아서뭐해",
    "마지막생일",
    "떠나주는게",
    "떠나줘야",
    "떠나주는것",
    "세상에제자리",
    "세상에내자리",
    "세상에저는필요",
    "숨쉬는것조차",
    "숨쉬는것도지",
    "숨쉬기도싫",
    "다멈췄으면",
    "모든게멈췄으면",
    "잠들면그대로",
    "그대로안깼",
    "다시는안깨",
    "다시는안일어",
    "다시는안떴",
    "몸에벌",
    "스스로에게벌",
    "나한테벌",
    "저한테벌",
    "나에게벌",
    "먹을자격이없",
    "먹을자격없",
    "차에치였으면",
    "차에치이면",
    "치여죽",
    "치였으면좋",
    "사고라도났으면",
    "사고나서죽",
    "조용히떠나",
    "흔적없이사라",
    "짐으로남",
    "짐덩어리",
    "제가없어도잘",
    "내가없어도잘",
    "마지막효도",
    "i'm no longer here",
    "im no longer here",
    "i am no longer here",
    "i'm no longer around",
    "nothing left for me here",
    "nothing left for me to live",
    "to stay around for",
    "don't deserve to eat",
    "dont deserve to eat",
    "have to carry me",
    "carry me around anymore",
    "dragging them down",
    "dragging everyone down",
    "breathe easier once i'm",
    "breathe easier without me",
    "breathe easier if i",
    "a weight on everyone",
    "weight on my family",
    "burden on my family",
    "easier life without me",
    "easier if i wasn't",
    "easier if i were gone",
    "look like an accident",
    "drive into the river",
    "drive into a river",
    "drive off a bridge",
    "from new numbers",
    "from new accounts",
    "every time i block",
    "each time i block",
    "keeps turning up outside",
    "turning up outside my",
    "shows up outside my",
    "showing up outside my",
    "waiting outside my",
    "photos of my front door",
    "pictures of my front door",
    "keeps my bank card",
    "keeps my card",
    "took my bank card",
    "takes my bank card",
    "explain every purchase",
    "justify every purchase",
    "what i spend down to",
    "who i'm with every",
    "where i am every",
    "hurt herself and blame me",
    "hurt himself and blame me",
    "kill herself if i",
    "kill himself if i",
    "never see my son",
    "never see my daughter",
    "never see my kids",
    "never see the kids",
    "never see my children",
    "애들을다시는못보",
    "아이들을다시는못보",
    "애들못보게",
    "아이들못보게",
    "이상한데를만지",
    "이상한데만지",
    "이상한곳을만지",
    "이상한데를만져",
    "one of his moods",
    "one of her moods",
    "flinch every time",
    "flinch when he",
    "flinch when she",
    "베란다에내보내",
    "누구랑있는지사진",
    "with a cigarette",
    "cigarette on my",
    "peace with my decision",
    "peace with the decision",
    "made my peace with",
    "a problem for much longer",
    "a burden for much longer",
    "won't hear from me again",
    "wont hear from me again",
    "last time you'll hear from me",
    "다시는연락안",
    "이제연락안할",
    "곁으로가고싶",
    "곁으로갈래",
    "곁으로가야",
    "곁에가고싶",
    "join her soon",
    "join him soon",
    "join them soon",
    "be with her again soon",
    "be with him again soon",
    "저세상가",
    "저세상으로",
    "하늘나라가고",
    "하늘나라로가",
    "영원히쉬고",
    "영원히자고싶",
    "rest forever",
    "don't want to keep going",
    "dont want to keep going",
    "want to keep going anymore",
    "stop being alive",
    "keep myself alive",
    "살만큼살았",
    "숨이멎었으면",
    "심장이멈췄으면",
    "heart would just stop",
    "heart to just stop",
    "carved into my",
    "carving into my",
    "칼로긋",
    "칼로그어",
    "칼로그었",
    "threatens to out me",
    "threatened to out me",
    "threatening to out me",
    "took my passport",
    "takes my passport",
    "여권을뺏",
    "여권을가져",
    "made me have sex",
    "forced me to have sex",
    "pressured me into sex",
    "made me do sexual",
    "억지로관계",
    "억지로잠자리",
    "원치않는관계",
    "원하지않는관계",
    "몰래찍",
    "몰래촬영",
    "몸캠피싱",
    "pulled my hair",
    "pulls my hair",
    "dragged me by",
    "spat on me",
    "spits on me",
    "머리채",
    "want to stop living",
    "wanna stop living",
    "just stop living",
    "walk into the sea",
    "walking into the sea",
    "walk into the ocean",
    "walking into the ocean",
    "walk into the river",
    "walking into the river",
    "walk into the lake",
    "walking into the lake",
    "until i disappear",
    "약다먹어버",
    "약을다먹어버",
    "약을전부먹어",
    "done existing",
    "wish i didn't exist",
    "wish i didnt exist",
    "wish i never existed",
    "picturing my funeral",
    "imagining my funeral",
    "just dead weight",
    "i'm dead weight",
    "im dead weight",
    "dead weight on everyone",
    "dead weight to everyone",
    "dead weight on my",
    "disappointed that i woke",
    "disappointed i woke",
    "disappointed to wake",
    "disappointed that i did",
    "peace with not being",
    "peace with not waking",
    "peace with dying",
    "at peace with not",
    "think about stepping off",
    "thinking about stepping off",
    "thought about stepping off",
    "climbed over the railing",
    "climb over the railing",
    "over the railing and",
    "swallowed everything in",
    "swallowed all my",
    "swallowed the whole bottle",
    "next time i'll make sure",
    "next time ill make sure",
    "make sure it works next time",
    "next time it will work",
    "next time it'll work",
    "what he'll do this time",
    "what she'll do this time",
    "i deserve to hurt",
    "deserve to suffer",
    "deserve to bleed",
    "see red to feel",
    "need to see blood",
    "need to bleed",
    "back to the thing with the",
    "삶을정리",
    "인생을정리",
    "생을정리",
    "폐안끼칠",
    "폐를안끼칠",
    "더는폐",
    "더이상폐",
    "짐만됩",
    "짐만돼",
    "세상에있을이유",
    "세상에더있을이유",
    "세상에남아있을이유",
    "살이유가없",
    "살이유를모르",
    "살아갈이유가없",
    "살아갈이유를모르",
    "영영잠들",
    "깨고싶지않",
    "깨지않고싶",
    "다시는깨고",
    "몸이아픈게나",
    "마음이아플바에",
    "난간을넘",
    "밖에서잠그",
    "유서를써",
    "유서를남겼",
    "유서를적",
    "유서까지",
    "말못하고갈것같",
    "말은못하고갈것같",
    "말못하고떠날것같",
    "말은못하고떠날것같",
    "없어지는게낫",
    "사라지는게낫",
    "없어지는게나을",
    "사라지는게나을",
    "세상에없었으면",
    "영원히눈감",
    "영원히눈을감",
    "step in front of a",
    "won't be a burden",
    "wont be a burden",
    "burden much longer",
    "burden for much longer",
    "goodbye forever",
    "not be around much longer",
    "기찻길에뛰",
    "물에뛰어들",
    "hacked my",
    "gps tracker",
    "kill the dog if",
    "kill my dog if",
    "밖에서잠가",
    "밖에서잠갔",
    "밖에서문을잠",
    "was never born",
    "were never born",
    "had never been born",
    "never been born",
    "won't even be here",
    "wont even be here",
    "won't be here for",
    "won't be here by",
    "stopped taking my meds and",
    "saving my pills",
    "saving my meds",
    "saving up my pills",
    "saving my sleeping",
    "tracking app on my",
    "spy app on my",
    "위치추적앱을깔",
    "추적앱을깔",
    "locks the fridge",
    "locked the fridge",
    "냉장고를잠",
    "존재하고싶지않",
    "존재하기싫",
    "저하나없어져도",
    "저하나없어도",
    "나하나없어도",
    "plane goes down",
    "hope the plane crashes",
    "사고로죽었으면",
    "be a problem for anyone",
    "won't be a problem for",
    "not be a problem for",
    "until it's raw",
    "till it's raw",
    "made me send pictures",
    "made me send photos",
    "made me send nudes",
    "목을맬",
    "목을맸",
    "목매달",
    "목을매달",
    "상처냈",
    "상처를냈",
    "i'm just a burden",
    "im just a burden",

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
    "future for me",
    "sextort",
    "without me",
    "keep secrets",
    "when we're alone",
    "explain the bruises",
    "what i did to them",
    "the razor",
    "tracker를",
    "추적기",
    "둘만있을때",
    "멍든거",
    "what he'll do",
    "what she'll do",
    "see a future",
    "see any future",
    "the point anymore",
    "carbon monoxide",
    "loose ends",
    "giving away my stuff",
    "giving away my things",
    "days clean",
    "weeks clean",
    "months clean",
    "razors",
    "blade in my",
    "purge after",
    "slam my",
    "our secret",
    "drugged",
    "scared of him",
    "afraid of him",
    "scared of her",
    "afraid of her",
    "takes my phone",
    "took my phone",
    "checks my phone",
    "check my phone",
    "my location",
    "knows my schedule",
    "showing up at my",
    "nudes",
    "private pictures",
    "private photos",
    "intimate photos",
    "deepfake",
    "asking for pics",
    "for pics",
    "wouldn't stop",
    "kneel on",
    "with a belt",
    "take the kids",
    "if i leave",
    "into my bed",
    "strip for",
    "beaten up",
    "without food",
    "let me eat",
    "미래가안보",
    "미래도안보",
    "버틸자신이없",
    "못버티겠",
    "사라져버리",
    "사라졌으면",
    "없어졌으면",
    "다끝났으면",
    "다끝나있었으면",
    "미안하다고전해",
    "사는게지옥",
    "나를아프게",
    "피보는게",
    "먹고토하",
    "커터칼",
    "핸드폰검사",
    "휴대폰검사",
    "폰검사",
    "못만나게",
    "못나가게",
    "집앞에찾아",
    "집앞에서기다",
    "몰래들어와",
    "이상한짓",
    "멍이안빠",
    "안으려",
    "물건을던지",
    "유포",
    "forces me to",
    "calls me worthless",
    "says i'm worthless",
    "monitors my",
    "reads my messages",
    "reads my texts",
    "won't stop texting me",
    "won't stop calling me",
    "restraining order",
    "농약",
    "제초제",
    "폭언",
    "가스라이팅",
    "그루밍",
    "체벌",
    // Topic words demoted from strong or added with the third development set.
    "suicide note",
    "데이트폭력",
    "딥페이크",
    "survive the fall",
    "survive a fall",
    "how long before it stops",
    "마지막대화",
    "마지막연락",
    "이제연락못",
    "연락못할것같",
    "just fade away",
    "just fading away",
    "just fade out",
    "just fading out",
    "done pretending",
    "tying things off",
    "tie things off",
    "closed my accounts",
    "deleted every account",
    "deleted all my accounts",
    "다탈퇴",
    "빨간줄",
    "커터칼로",
    "sucide",
    "suicde",
    "sucidal",
    "explicit pictures",
    "explicit photos",
    "explicit video",
    "fake explicit",
    "야한사진",
    "합성사진",
    "합성한",
    "회사앞에서기다",
    "학교앞에서기다",
    "현관문사진",
    "sleep in the car with",
    "make myself small",
    "won't be coming back",
    "what i did last night",
    "버틸힘이없",
    "pills with alcohol",
    "술이랑약",
    "for much longer",
    "사라지고싶",
    "짐이되",
    "유서를",
    "한테맞는",
    "letters for everyone",
    "letter for everyone",
    "notes for everyone",
    "notes to each of",
    "letters to each of",
    "a letter to each of",
    "leave for good",
    "leaving for good",
    "loose ends before i go",
    "loose ends before i leave",
    "if he finds out",
    "if she finds out",
    "our little secret",
    "it's our secret",
    "its our secret",
    "stays between us",
    "shouldn't tell my parents",
    "not to tell my parents",
    "don't tell your parents",
    "finding out what i do",
    "find out what i do",
    "what i do to myself",
    "stalker",
    "스토커",
    "flinch every time",
    "flinch whenever",
    "scared to go home",
    "afraid to go home",
    "집에가기무서",
    "집에들어가기무서",
    "was just a warning",
    "self-inflicted",
    "self inflicted",
    "우리만의비밀이라",
    "둘만의비밀이라",
    "엄마한테는비밀",
    "부모님한테는비밀",
    "엄마한테비밀",
    "비밀이래요",
    "오래안있을거",
    "오래못있을거",
    "제가없을거",
    "저는이미없을",
    "이미없을거",
    "제가떠나도",
    "내가떠나도",
    "이번생은여기까지",
    "마지막하나만남",
    "난간높이",
    "lethal dose",
    "정리할건거의",
    "정리할게별로없",
    "who should get my",
    "who gets my",
    "who will get my",
    "누구한테줄지",
    "last entry",
    "final entry",
    "마지막일기",
    "눈뜨는게무서",
    "다부질없",
    "one last time to hear",
    "hear her voice one last time",
    "hear his voice one last time",
    "final goodbye",
    "edge of the platform",
    "standing at the edge of",
    "make sure my mom knows",
    "make sure my mum knows",
    "make sure my parents know",
    "none of this was her fault",
    "none of this was his fault",
    "none of this was your fault",
    "feel like a ghost",
    "not to tell anyone",
    "keeps giving me gifts",
    "이제다끝이에요",
    "won't matter after",
    "wont matter after",
    "won't matter by then",
    "wont matter by then",
    "all be over soon",
    "all be over by",
    "don't see myself being here",
    "dont see myself being here",
    "see myself being here by",
    "여기없을거",
    "여기에없을거",
    "다끝나니까",
    "이세상에없을",
    "말리지않았으면",
    "말리지말아",
    "아무도못말리",
    "nobody will stop me",
    "no one will stop me",
    "nobody can stop me",
    "다시는못볼",
    "처음부터없던사람",
    "없던사람이되",
    "태어나지않았으면",
    "태어나지말았어야",
    "stop cutting",
    "quit cutting",
    "started cutting again",
    "cutting again",
    "just a burden to",
    "짐만되",
    "won't still be here",
    "wont still be here",
    "don't plan on seeing",
    "dont plan on seeing",
    "제가있을지모르",
    "내가있을지모르",
    "기다릴이유도없",
    "기다릴이유가없",
    "reset the counter",
    "counter back to zero",
    "reset my counter",
};

// Framing that marks look-alike text (study, fiction, news, prevention work, technical
// "kill"); it vetoes weak phrases and the learned score, never strong evidence.
constexpr std::array kFraming = {
    "theme of",
    "api",
    "access",
    "prevention",
    "hotline",
    "volunteer",
    "statistic",
    "research",
    "paper on",
    "essay",
    "article",
    "novel",
    "fiction",
    "story",
    "character",
    "villain",
    "plot",
    "scene",
    "film",
    "movie",
    "documentary",
    "review",
    "chapter",
    "summar",
    "pharmacolog",
    "toxicolog",
    "nursing",
    "med school",
    "medical school",
    "policy",
    "awareness",
    "campaign",
    "prevalence",
    "literature",
    "subtitle",
    "translat",
    "lyrics",
    "of power",
    "rate limit",
    "process",
    "thread",
    "server",
    "docker",
    "sigterm",
    "sigkill",
    "social media",
    "counselor",
    "email",
    "donate",
    "예방",
    "통계",
    "자원봉사",
    "논문",
    "리포트",
    "보고서",
    "에세이",
    "소설",
    "영화",
    "드라마",
    "대사",
    "장면",
    "캐릭터",
    "악당",
    "뉴스",
    "기사",
    "요약",
    "교육",
    "캠페인",
    "약리학",
    "독성학",
    "약대",
    "의대",
    "간호",
    "번역",
    "실태",
    "신고절차",
    "프로세스",
    "서버",
    "명령어",
    "정책",
    "메일",
    "퇴사",
    "보안",
    // Helping professions and science: care workers, shelters, biology.
    "nurse",
    "patient",
    "social work",
    "shelter",
    "biolog",
    "apoptosis",
    "screening",
    "scam",
    "쉼터",
    "사회복지",
    "세포",
    "생물",
    "동물",
    "사회학",
    "다큐",
    "자살론",
    // Helping someone else, law and research, farewell parties, treating a bruise, crafts.
    "as a parent",
    "부모로서",
    "상담교사",
    "상담사",
    "교사인데",
    "선생님인데",
    "어떻게도와",
    "도와줄수있",
    "도와줘야",
    "도와주면좋을까",
    "어떻게 support",
    "support 해야",
    "how do i support",
    "how can i support",
    "how can i help",
    "how do i help",
    "how to help",
    "help her",
    "help him",
    "support her",
    "support him",
    "criminal law",
    "family law",
    "law school",
    "seminar",
    "법학",
    "법안",
    "판례",
    "처벌강화",
    "처벌기준",
    "찬반토론",
    "토론준비",
    "발표자료",
    "발표준비",
    "설문",
    "문항",
    "연구하",
    "연구를",
    "연구동향",
    "연구자료",
    "신고의무",
    "의무자",
    "제도에대해",
    "moderation",
    "taxonom",
    "dataset",
    "labelling",
    "labeling",
    "classifier",
    "thesis",
    "rates",
    "송별",
    "환송",
    "퇴임",
    "은퇴",
    "retirement",
    "빨리빼",
    "빨리빠지",
    "빼는법",
    "빠지는법",
    "연고",
    "찜질",
    "how do i disable",
    "disable it",
    "정신의학",
    "difference between",
    "organiser",
    "organizer",
    "종이자르",
    "종이를자르",
    "미술시간",
    "미술수업",
    "탐지",
    "detection",
    "vitamin",
    "비타민",
    "상담센터",
    "매뉴얼",
    "위기학생",
    "조교",
    "cabin",
    "no wifi",
    "holiday",
    "vacation",
    "for a week",
    "for two weeks",
    "템플스테이",
    "여행지",
    "캠핑",
    "휴가",
    "팀에",
    "실력",
    "before i move",
    "moving to",
    "move to",
    "털어놨",
    "해줄수있",
    "뭘해줄",
    "봉사하",
    "지원센터",
    "징후",
    "알아볼수",
    "말을꺼내",
    "counsellor",
    "warning signs",
    "대본",
    "연극",
    "boxing",
    "복싱",
    "스파링",
    "sparring",
    "surprise",
    "생일",
    "파티",
    "webtoon",
    "팀원",
    "도움을요청",
    "비활성화",
    "계정비활성",
    "기준이",
    "아이가있어",
    "웹툰",
    "for a cat",
    "for a dog",
    "for my cat",
    "for my dog",
    "방학",
    "바빴",
    "soliloquy",
    "werther",
    "베르테르",
    "media guideline",
    "reporting on suicide",
    "보도준칙",
    "보도가이드",
    "아들이",
    "딸이",
    "우리아이가",
    "숙소",
    "얘기를꺼냈",
    "말을꺼내",
    "상담연결",
};

// Ordinary phrases that contain a crisis phrase ("suicide squad", 자살골 = own goal, 유서 깊은 =
// historic); a phrase lying wholly inside one of these is not reported.
constexpr std::array kExcluded = {
    "suicide squad",
    "suicide burn",
    "자살골",
    "자해공갈",
    "유서깊",
    "jumping off point",
    "jump off point",
    "abuse of",
    "substance abuse",
    "drug abuse",
    "hit me up",
    "hit me with",
    "0 kms",
    "1 kms",
    "2 kms",
    "3 kms",
    "4 kms",
    "5 kms",
    "6 kms",
    "7 kms",
    "8 kms",
    "9 kms",
    "혼자해",
    "sextortion scam",
    "goodbye note to my colleague",
    "goodbye notes to my colleague",
    "goodbye note to my team",
    "goodbye notes to my team",
    "goodbye note to my coworker",
    "goodbye notes to my coworker",
    "kill me if i miss",
    "kill me if i'm late",
    "kill me if i forget",
    "kill me if i don't finish",
    "want to die of embarrass",
    "잠깐사라지고싶",
    "잠시사라지고싶",
    "미디어에서사라지고싶",
    "인스타에서사라지고싶",
    "want it to be over so i can",
    "suicidal behavio",
    "they are thinking about suicide",
    "they're thinking about suicide",
    "someone is thinking about suicide",
    "he is thinking about suicide",
    "she is thinking about suicide",
    "student is thinking about suicide",
    "she's being abused",
    "he's being abused",
    "she is being abused",
    "he is being abused",
    "they are being abused",
    "they're being abused",
    "is being abused",
    "나한테맞는",
    "저한테맞는",
    "본인한테맞는",
    "자신한테맞는",
    "우리한테맞는",
    "자살스퀴즈",
    "suicide squeeze",
    "cutting corners",
    "cutting costs",
    "stop cutting corners",
    "quit cutting corners",
    "want to die my hair",
    "wanna die my hair",
    "want to die her hair",
    "dead weight on my team",
    "dead weight on the team",
    "she's been thinking about suicide",
    "he's been thinking about suicide",
    "they've been thinking about suicide",
};

// Cue pairs: a first cue followed within a few bytes by a second cue of the same family is
// strong evidence. Korean word order puts the subject, condition or body part first and the verb
// last, so each family reads "who / what … did what" over the compact text.
constexpr std::array kKoAgents = {
    "남친",       "남자친구",   "여친",   "여자친구", "남편",   "아내",   "와이프",
    "애인",       "아빠",       "아버지", "엄마",     "어머니", "부모님", "부모가",
    "부모는",     "부모한테",   "새아빠", "새엄마",   "의붓",   "계부",   "계모",
    "오빠",       "누나",       "언니",   "삼촌",     "이모부", "고모부", "할아버지",
    "친척",       "선배",       "상사",   "팀장",     "부장",   "과장",   "사장",
    "교수",       "선생",       "코치",   "감독",     "담임",   "동료",   "시어머니",
    "시아버지",   "그사람",     "그놈",   "애들이",   "사촌",   "동거",   "누가",
    "어떤사람",   "모르는사람", "걔가",   "그새끼",   "형이",   "형은",   "partner",
    "boyfriend",  "ex가",       "boss",   "헤어진",   "전남친", "전여친", "전남편",
    "전애인",     "stalker",    "스토커", "선임",     "원장",   "과외",   "큰아버지",
    "작은아버지", "형부",       "매형",   "manager",  "매니저",
};
constexpr std::array kKoAbuse = {
    "때리",     "때려",       "때렸",       "때릴",         "팼",         "협박",
    "죽여",     "죽이겠",     "죽인다",     "가두",         "가둬",       "가뒀",
    "졸랐",     "졸라",       "밀쳤",       "밀쳐",         "발로찼",     "걷어찼",
    "더듬",     "감금",       "흉기",       "만졌",         "만져",       "만지",
    "손찌검",   "욕하고",     "뺏어",       "뺏고",         "던지",       "던져",
    "찾아와",   "따라와",     "해킹",       "위치를",       "검사해",     "검사하",
    "몰래",     "유포",       "뿌린",       "뿌리겠",       "제몸",       "내몸",
    "밥을안",   "밥도안",     "굶기",       "비밀이라",     "생활비를안", "생활비안",
    "목을잡",   "벽에밀",     "kill me",    "touch",        "beat",       "hit me",
    "threaten", "choke",      "때린",       "따라다녀",     "따라다니",   "주물러",
    "손을올려", "창고로부르", "방으로부르", "방으로불러",   "문을잠그고", "비밀이래",
    "합성",     "녹화",       "저를놀리",   "나를놀리",     "낙서해서",   "비밀번호를바꿔",
    "때린다",   "주소알아",   "주소를알아", "집앞에서기다", "방에들어오", "방에들어와",
    "알아내서", "회사앞에",   "얼차려",     "차요",         "발로차",     "내리치",
    "내리쳤",   "키스하려",   "억지로키스",
};
// Someone gone, then relief: "내가 없어지면 엄마도 편할 텐데".
constexpr std::array kKoGone = {
    "없어지면",   "사라지면",   "죽으면",     "없으면",     "떠나면", "없어져도", "사라져도",
    "죽어도",     "없는게",     "없어지는게", "사라지는게", "죽는게", "나없어도", "내가없어도",
    "without me", "제가없어도", "저없어도",   "저없이",     "나없이",
};
constexpr std::array kKoRelief = {
    "편할",     "편하",       "편해",     "나을",   "낫겠",   "행복",     "좋아할",
    "아무도",   "모를",       "슬퍼하지", "fine",   "better", "happier",  "가벼워",
    "가벼울",   "홀가분",     "위한일",   "잘지낼", "잘살",   "peaceful", "happy",
    "잘돌아가", "아무렇지않", "아무일없", "relief", "해결될", "해결되",
};
// Self-contempt, then vanishing: "나 같은 건 없어져야 돼".
constexpr std::array kKoSelfContempt = {"나같은", "나따위", "저같은", "저따위", "내가무슨"};
constexpr std::array kKoVanish = {"없어져", "사라져", "죽어", "필요없", "살가치", "살자격"};
// A quantity or a height, then death or certainty: disguised questions about means.
constexpr std::array kKoQuantity = {
    "몇층", "몇알", "몇개", "몇통", "몇미리", "얼마나먹", "한꺼번에", "한번에", "치사", "mg",
};
constexpr std::array kKoLethal = {
    "죽을수", "죽나", "죽는", "죽을까", "죽을지", "확실",
    "끝날",   "끝나", "안깨", "영원히", "위험",   "enough",
};
// A high or deadly place, then a last act there.
constexpr std::array kKoPlace = {
    "한강", "다리위", "옥상",    "철로", "선로",   "난간",
    "대교", "bridge", "rooftop", "roof", "높은데", "높은곳",
};
constexpr std::array kKoLastAct = {
    "마지막",   "뛰어",     "떨어",       "안돌아",   "서있",       "올라와",
    "위에와있", "위에서있", "jump",       "난간낮은", "난간이낮은", "난간없는",
    "끝인데",   "사람없는", "아무도없는", "혼자가보", "끝낼",       "끝내러",
    "가보려",   "열려있",   "앉아",       "내려다",   "사람제일없", "혼자조용히",
};
// A body part, then cutting, burning or scars on it.
constexpr std::array kKoBody = {
    "손목", "팔목", "팔에",   "팔을", "허벅지", "다리",
    "손등", "살을", "피부를", "팔뚝", "몸에",   "손가락",
};
constexpr std::array kKoWound = {
    "그었", "긋",     "그어",   "그을",     "지져",    "지졌",     "지지", "물어뜯",
    "찔러", "찔렀",   "흉터",   "상처를",   "상처내",  "자국",     "cuts", "scar",
    "피나", "피가나", "피가났", "안보여줘", "scratch", "들킬까봐",
};
// On purpose, then harm.
constexpr std::array kKoOnPurpose = {"일부러", "고의로"};
constexpr std::array kKoSelfInjury = {
    "뜨거운", "굶",   "다치", "상처", "긋",   "그었", "지져", "응급실",
    "많이먹", "토하", "때리", "때려", "데어", "데었", "데여",
};
// An English crisis verb, then a Korean ending of wanting or planning: "unalive 하고 싶다".
constexpr std::array kMixedCrisisVerb = {
    "die",       "unalive",   "kms", "suicide", "od",     "overdose", "cut",    "cutting",
    "self harm", "self-harm", "sh",  "jump",    "end it", "hurt",     "punish", "자해",
};
constexpr std::array kMixedWanting = {
    "하고싶", "할까", "하려고", "해버리", "할래", "마렵", "각",
    "충동",   "멈추", "못멈",   "할거",   "할꺼", "할게",
};
// An overdose, then doing it: "OD 하면 아플까요".
constexpr std::array kOverdose = {"od", "overdose", "오디"};
constexpr std::array kDoing = {"하면", "해서", "했", "하려"};
// A burden, then "only": "나는 그냥 burden일 뿐이야".
constexpr std::array kBurden = {"burden", "짐"};
constexpr std::array kOnly = {"일뿐", "밖에안", "만되", "이될뿐"};
// A tool of self-harm, then again.
constexpr std::array kTool = {"blade", "razor", "커터칼", "면도칼", "칼을", "craft knife"};
constexpr std::array kAgain = {"다시", "또", "again"};
// Long sleeves and what they hide, in either order.
constexpr std::array kSleeves = {
    "긴팔",       "긴소매",    "long sleeve", "긴옷", "hoodie",
    "watch over", "bracelets", "손목시계",    "팔찌", "양말",
};
constexpr std::array kHidden = {
    "팔때문",          "흉터",     "가리",        "안들키",      "보면안", "cuts",
    "scars",           "보이면안", "nobody sees", "no one sees", "보이면", "보면안되",
    "hard to explain", "excuses",  "explain",
};
constexpr std::array kHiddenFirst = {
    "팔때문", "흉터때문", "상처때문", "cuts때문", "줄들때문", "자국때문", "흉때문",
};
constexpr std::array kSleevesSecond = {
    "긴팔",
    "긴소매",
    "반팔",
};
// A wall, then striking it with the head or fist.
constexpr std::array kWall = {"벽에", "벽을"};
constexpr std::array kStrike = {"박아", "박았", "박고", "주먹", "머리", "쳐서"};
// At night, someone coming in or touching.
constexpr std::array kNight = {"밤마다", "밤에", "새벽에", "새벽마다", "at night"};
constexpr std::array kIntrusion = {"들어와", "만지", "만져", "touch"};
// Drinking, then fear or violence at home.
constexpr std::array kDrinking = {"술먹고",   "술마시면",   "술마시고",
                                  "술취하면", "술만먹으면", "drunk"};
constexpr std::array kDrunkViolence = {"무서", "때리",  "때려", "던져",
                                       "던지", "scary", "맞",   "hits"};
// Incapacitated, then no memory: drug-facilitated assault.
constexpr std::array kIncapacitated = {"취해", "술에", "drug", "약을탄", "약탄"};
constexpr std::array kNoMemory = {"정신을잃", "기억이없", "깨보니", "기억이안", "필름이끊"};
// Treasured things, then given away.
constexpr std::array kTreasured = {
    "아끼던", "소중한", "제일좋아하는", "정리해서", "통장", "아끼던물건",
};
constexpr std::array kGivenAway = {"나눠줬", "나눠주", "넘겨", "다줬", "다주고"};
// Living, then no reason.
constexpr std::array kLiving = {"살아야할", "살아갈", "살아야하는", "살아있을"};
constexpr std::array kReason = {"reason", "이유를모르", "point", "이유가없"};
// Quitting, then living, in either order: "다 그만하고 싶어요 사는 거".
constexpr std::array kQuitting = {
    "그만하고싶", "그만두고싶", "끝내고싶", "포기하고싶", "give up 하고싶", "give up하고싶",
};
constexpr std::array kLife = {"사는거", "사는것", "살아가는", "삶", "인생"};
constexpr std::array kLiving2 = {"살기가", "살기", "사는게", "사는것이"};
constexpr std::array kHate = {"싫", "괴로", "지옥"};
// Pills gathered: "pills 모아놨어".
constexpr std::array kPills = {"pills", "수면제", "약", "알약", "진통제"};
constexpr std::array kGathered = {
    "모아놨", "모아뒀", "모아둔",   "모았",     "사모았",   "쌓아",
    "모으고", "모으는", "모아두고", "모으고있", "모으는중",
};
// Vanishing, then forever.
constexpr std::array kVanishing = {"사라지", "없어지", "죽", "disappear", "vanish"};
constexpr std::array kForever = {"forever", "영원히", "영영", "for good"};
// A high place, then no barrier or enough height.
constexpr std::array kHighPlace = {"bridge", "bridges", "roof", "rooftop", "building", "cliff"};
constexpr std::array kNoBarrier = {
    "no fence", "no fences", "no railing", "without fences", "high enough", "no barrier",
};
// A farewell: thanks for everything, then goodbye.
constexpr std::array kThanksForAll = {"그동안고마웠", "그동안고마워", "마지막으로고맙",
                                      "다들고마웠"};
constexpr std::array kGoodbye = {"안녕", "잘지내", "미안"};
// A method, then a surer one: "손목 말고 확실한 방법".
constexpr std::array kMethod = {"손목", "목매", "약", "번개탄", "뛰어내리", "pills"};
constexpr std::array kSurer = {"확실한방법", "확실하게", "확실히죽"};
// Pictures, then spreading them: image-based abuse.
constexpr std::array kKoPicture = {
    "사진", "영상", "동영상", "nudes", "몸캠", "pics", "photos", "찍힌", "합성해서", "합성한",
};
constexpr std::array kKoSpread = {
    "뿌린", "뿌리",   "유포",   "올린다", "퍼뜨", "보낸다고", "보내겠", "안보내면", "leak",
    "올렸", "올리겠", "돌리고", "돌린다", "돌렸", "돌려",     "올린대", "뿌린대",
};

// Pills taken all at once, or enough not to wake.
constexpr std::array kMedicine = {
    "약을",          "pills",   "tablets",  "meds",        "medication",      "알약",
    "수면제",        "진통제",  "혈압약",   "insulin",     "인슐린",          "paracetamol",
    "acetaminophen", "tylenol", "타이레놀", "painkillers", "antidepressants", "항우울제"};
constexpr std::array kAllAtOnce = {"한번에다",    "한꺼번에다",     "다먹으면",
                                   "all at once", "would it take",  "enough to not",
                                   "to not wake", "before it stops"};
// Pills counted or saved up.
constexpr std::array kHoarding = {"counting", "saving up", "stockpiling", "hoarding", "collecting"};
constexpr std::array kPillsEn = {"pills", "tablets", "meds", "sleeping pills"};
// Again, then a blade taken out.
constexpr std::array kAgainFirst = {"다시", "또"};
constexpr std::array kBladeOut = {
    "칼을꺼",   "칼날을꺼", "칼날꺼", "면도날을꺼", "blade를꺼",
    "blade 꺼", "칼을들었", "칼잡",   "칼을잡",
};
// How high, then surviving or getting up there.
constexpr std::array kHowHigh = {
    "how tall",         "how high",         "which floor", "highest floor", "how many floors",
    "how many stories", "how many storeys", "what height", "fall need",     "what floor",
};
constexpr std::array kFall = {
    "survive", "fatal",   "key card", "roof access", "access to the roof",
    "certain", "be sure", "for sure", "guaranteed",  "instant",
};
// Hit by a vehicle, then not minding or relief.
constexpr std::array kVehicleHit = {"truck hit me", "car hit me",     "bus hit me",
                                    "hit by a car", "hit by a truck", "hit by a bus",
                                    "run over",     "치였으면",       "치이면"};
constexpr std::array kNotMinding = {"wouldn't mind", "wouldnt mind", "relieved",
                                    "relief",        "not mind",     "좋겠"};
// Dressings bought again and again: hidden wounds.
constexpr std::array kDressings = {
    "bandages", "bandage", "plasters", "gauze",    "band-aids",  "bandaids",  "반창고",
    "붕대",     "밴드를",  "밴드한통", "밴드두통", "반창고한통", "bandage를",
};
constexpr std::array kAgainAndAgain = {
    "again",    "like crazy", "more than", "한통",       "박스째", "또사", "this month", "번째",
    "너무자주", "every week", "다썼",      "일주일만에", "통째",   "매주", "잔뜩",
};
// Pain, then the relief it brings.
constexpr std::array kPain = {
    "pain", "sting",    "red lines", "빨간줄",    "아파야", "따가",
    "통증", "칼날을보", "피를보",    "the sting", "얼음물",
};
constexpr std::array kPainRelief = {
    "quiets",
    "calms me",
    "feel real",
    "feel something",
    "feel anything",
    "숨이쉬어",
    "살아있는느낌",
    "버텨져",
    "가라앉",
    "조용해",
    "help me focus",
    "can focus",
    "only thing that helps",
    "go quiet",
    "goes quiet",
    "it works",
    "마음이놓",
    "정신이드",
    "정신이좀",
    "진정",
    "일부러",
};
// Marks, then hiding them, in either order.
constexpr std::array kMarks = {
    "marks", "cuts", "burns", "bruises", "bruise", "멍", "상처", "흉이", "scars", "scar", "흉터",
};
constexpr std::array kCovering = {
    "hide", "concealer", "cover", "nobody will see", "no one will see", "가리", "가릴", "화장으로"};
constexpr std::array kConcealer = {"concealer", "컨실러", "화장으로"};
constexpr std::array kBruise = {"멍", "marks", "bruise", "bruises"};
// Affairs put in order, then a settled calm.
constexpr std::array kAffairs = {
    "인수인계",        "다썼고", "cancelled", "canceled", "closed my",  "deleted",  "paid off",
    "updated my will", "계정도", "다탈퇴",    "다지우",   "통장도정리", "통장정리", "다치우"};
constexpr std::array kSettled = {"tying things", "things off",   "made peace",
                                 "calm now",     "i've decided", "남은게없",
                                 "떠나기만",     "이제조용히",   "정리할것도"};
// Thanks, then a last message.
constexpr std::array kThanks = {"고마웠", "고마워", "thanks for everything",
                                "thank you for everything", "thanks for all"};
constexpr std::array kLastMessage = {
    "마지막대화", "마지막연락",     "마지막메시지",         "연락못",
    "이게마지막", "last time i'll", "take care of yourself"};
// A letter, then left ready.
constexpr std::array kLetter = {"편지", "letter", "쪽지", "유언장"};
constexpr std::array kLeftReady = {"넣어뒀", "써뒀", "써놨", "남겨뒀", "남겨놨", "다써", "써둬"};
// Things given away, then no longer needed.
constexpr std::array kGiven = {"줬어요", "줬어", "나눠줬", "넘겨줬", "gave", "given away"};
constexpr std::array kNoLongerNeeded = {"필요없어서", "이제필요없", "더는필요없", "쓸일이없",
                                        "won't need", "wont need",  "no use for"};
// A pet provided for, then nothing left to worry about.
constexpr std::array kPet = {"강아지", "고양이", "반려", "the dog", "my dog", "my cat", "the cat"};
constexpr std::array kProvidedFor = {"걱정할게없", "제가없어도", "내가없어도", "for good",
                                     "new home"};

// Refusing or telling, then losing a job, a contract or school.
constexpr std::array kRefusing = {
    "거절하면", "말하면", "싫다고하면", "if i refuse", "if i say no", "unless i", "if i report",
};
constexpr std::array kLosing = {
    "자르",   "재계약", "연장안",   "fire",   "해고",   "contract", "못다니", "lose my",
    "학교못", "평가깎", "평가를깎", "점수깎", "깎는대", "불이익",   "visa",   "비자",
};
// Pictures, then sent to the people around me.
constexpr std::array kPictures = {"photos", "pictures", "videos", "video", "pics", "nudes"};
constexpr std::array kToEveryone = {
    "to my whole",   "to my family",  "to my classmates", "to my employer",   "to my contact",
    "to everyone",   "online unless", "send more",        "show our parents", "show my parents",
    "show everyone", "to my school",  "to my work",       "to my boss",
};
// A number changed or a contact blocked, then found again.
constexpr std::array kEvaded = {
    "번호를바꿔도", "번호를바꿨는데도",  "번호바꿔도",     "차단해도",
    "차단했는데도", "block해도",         "이사를했는데도", "이사를두번",
    "번바꿨는데",   "번이나바꿨",        "번을바꿨",       "changed my number",
    "moved twice",  "moved three times", "차단했는데",     "block했는데",
};
constexpr std::array kFoundAgain = {
    "계속",     "또",         "알아내",   "찾아와", "연락이와",    "새계정",
    "새 계정",  "새번호",     "새번호로", "매번",   "still finds", "keeps showing",
    "shows up", "showing up", "새로만들",
};
// Money held by someone else, then taken or begged for.
constexpr std::array kMoney = {
    "통장", "월급",    "bank card", "joint account", "카드를", "용돈",   "생활비",
    "연금", "pension", "paycheck",  "paycheque",     "wages",  "salary", "my wages",
};
constexpr std::array kHeld = {
    "가져가",    "뺏",       "허락받",         "허락을",        "changed the password",
    "only if i", "takes my", "ask permission", "permission to", "keeps my",
    "held back", "withheld", "hasn't paid",
};
// Location shared or an app installed, then demanded or checked.
constexpr std::array kWatched = {"위치앱",          "위치 앱",    "위치공유",
                                 "location 공유",   "location을", "share my location",
                                 "app on my phone", "my location"};
constexpr std::array kDemanded = {"하라고", "안하면", "so he can",        "so she can",
                                  "확인해", "끄면",   "if i turn it off", "gets furious",
                                  "화내",   "난리"};
// Nobody else home, then someone coming in or touching.
constexpr std::array kAlone = {"없을때",   "아무도없을때", "둘만있을때",
                               "when mom", "when my mom",  "while my mom"};
constexpr std::array kComingIn = {"들어와", "만지", "만져", "comes into my", "touch"};
// Someone's anger, then a punishment.
constexpr std::array kAnger = {"화나면",           "화가나면",           "when he's angry",
                               "when she's angry", "when he gets angry", "when she gets angry"};
constexpr std::array kPunishment = {"문을잠가",      "내보내",         "쫓아내",  "벽보고",
                                    "밥도안",        "밥을안",         "lock me", "locks me",
                                    "make me sleep", "makes me sleep", "kneel"};
// Someone coming home, then fear.
constexpr std::array kArriving = {"소리만들려도", "소리가들리면", "car pulls into", "들어오는소리",
                                  "차소리"};
constexpr std::array kFear = {"몸이굳", "flinch", "숨어",   "애들을방에", "방에들여보내",
                              "숨죽",   "무서",   "scared", "shaking",    "떨려"};
// Marks on the body, then deeper or running out of hidden places.
constexpr std::array kBodyMarks = {
    "marks", "cuts", "lines", "burns", "scars", "burn marks",
};
constexpr std::array kWorse = {
    "deeper",     "running out of places", "places nobody", "places no one", "new ones",
    "adding new", "keep adding",
};
// Cutting or self-harm, then done.
constexpr std::array kSelfHarmWord = {"cutting", "self harm", "self-harm", "sh", "자해"};
constexpr std::array kDone = {"했는데", "했어요", "했어", "했다"};
// A blade kept, then not for its ordinary use.
constexpr std::array kBladeKept = {
    "칼날", "blade", "면도날", "커터칼", "sharpener blade", "연필깎이", "pencil sharpener",
};
constexpr std::array kNotForUse = {
    "게아니",         "not for pencils", "it's not for",   "용도가아니",   "깎으려는건아니",
    "깎으려는게아니", "bad days",        "없으면잠을못",   "없으면잠이안", "못버렸",
    "못버리겠",       "can't throw",     "couldn't throw",
};
// Bare skin exposed, then seen.
constexpr std::array kExposed = {
    "반팔",          "반바지",      "수영복", "swimsuit", "shorts",
    "short sleeves", "locker room", "탈의실", "체육복",   "갈아입",
};
constexpr std::array kSeen = {
    "보이니까", "보일까",         "다보이",        "팔보면",      "다리보면", "알테니까",
    "들킬",     "let anyone see", "see my thighs", "see my arms", "보이면안", "절대보이",
    "가리죠",   "어떻게가리",     "안보이게",      "안보이는",
};
// An injury, then on purpose.
constexpr std::array kInjured = {"burned my", "burnt my", "cut my", "hit my", "scratched my"};
constexpr std::array kOnPurposeEn = {"on purpose", "deliberately"};
// The point of going on, in either order.
constexpr std::array kPointOf = {"point of", "point in"};
constexpr std::array kEnduring = {"버티", "살아", "사는거"};
constexpr std::array kEnduringFirst = {"버티는거", "사는거", "살아가는거", "사는게"};
constexpr std::array kMeaningless = {"무의미", "의미없", "point"};
// Asleep, then never waking.
constexpr std::array kAsleep = {"잠들면", "잠들고", "자고나서", "잠든채"};
constexpr std::array kNeverWaking = {"그대로였으면", "안깼으면", "안깨면좋", "깨지않았으면",
                                     "안일어났으면"};

// Families added with the fourth development set and the second blind set.
// Peace with not being here, then the thing itself, in the speaker's order.
constexpr std::array kAtPeace = {"made my peace with", "at peace with", "made peace with"};
constexpr std::array kNotBeing = {"not being here", "not being around", "not waking",
                                  "not existing", "being gone"};
// Things no longer needed, then where or when: "won't need them where I'm going".
constexpr std::array kWontNeed = {
    "won't need", "wont need",     "won't be needing", "wont be needing",
    "no use for", "not need them", "i'll be needing",
};
constexpr std::array kWhereGoing = {
    "where i'm going", "where im going", "where i am going", "after this weekend",
    "after tonight",   "after i'm gone", "after im gone",    "much longer",
    "back down",       "ride back",      "way back",         "return ticket",
    "after friday",    "after saturday", "after sunday",     "after this week",
};
// Waking, then disappointment at it.
constexpr std::array kWaking = {"wake up", "woke up", "waking up", "i wake", "i woke"};
constexpr std::array kWakingDismay = {"disappointed", "still alive"};
// Looking up ways, then the act.
constexpr std::array kResearching = {"researching ways to", "looking up ways to",
                                     "googling ways to", "searching ways to",
                                     "reading about ways to"};
constexpr std::array kTheAct = {"end it", "die", "not wake", "end my life"};
// A high place, then jumping or stepping off: weak, since scenes and games say it too.
constexpr std::array kHighPlaceEn = {
    "overpass", "bridge",  "rooftop",          "roof of",   "ledge", "the tracks",
    "railing",  "balcony", "tallest building", "top floor", "cliff"};
constexpr std::array kJumping = {"jumping",   "jump off", "stepping off", "step off",
                                 "how quick", "tonight",  "asking for"};
// A car shut in, then the engine left running.
constexpr std::array kShutIn = {"closed garage",      "garage door shut", "garage closed",
                                "in the garage with", "sealed the car",   "taped the"};
constexpr std::array kEngine = {"engine running", "engine on", "exhaust", "hose"};
// Insurance, then a death that is self-inflicted or staged.
constexpr std::array kInsurance = {"life insurance", "insurance", "보험금", "보험", "수익자"};
constexpr std::array kStagedDeath = {
    "self-inflicted",
    "self inflicted",
    "looks like an accident",
    "look like an accident",
    "suicide",
    "자살",
    "사고처럼",
    "사고로보이",
    "not around",
    "after i'm gone",
    "need to know soon",
    "준비는끝",
    "준비끝",
    "바꿔놨",
    "바꿔뒀",
    "not an accident",
    "get everything",
    "지금사망하면",
    "지금죽으면",
    "if i die now",
    "if i died now",
};
// Cold water, then how long one lasts in it.
constexpr std::array kColdWater = {"수온", "water temperature", "how cold is the river",
                                   "how cold is the lake", "how cold is the sea"};
constexpr std::array kLasting = {"버틸", "들어가면", "survive", "how long", "얼마나"};
// Heaven, then going there soon.
constexpr std::array kHeaven = {"하늘나라", "저세상"};
constexpr std::array kGoingThere = {"곧보러가",   "보러가려", "만나러가려",
                                    "따라가고싶", "따라갈",   "가고싶"};
// A message passed on for me, or leaving without saying it.
constexpr std::array kLastWords = {
    "미안하다고", "고마웠다고", "사랑한다고", "사랑했다고", "미안했다고",
};
constexpr std::array kPassedOn = {
    "대신전해", "전해줄수", "전해주세요", "전해줘", "말못하고", "말은못하고", "남겼",
};
constexpr std::array kUnsaid = {"말은못하고", "말못하고", "말도못하고", "인사도못하고"};
constexpr std::array kLeaving = {"갈것같", "떠날것같", "떠나려"};
// A wound, then who made it: "상처 … 제가 낸 거라".
constexpr std::array kWound = {"상처", "흉", "곪"};
constexpr std::array kSelfMade = {"제가한거",   "제가낸거",   "내가낸거",
                                  "제가만든거", "내가만든거", "내가한거"};
constexpr std::array kWoundEn = {"scratch", "scratches", "cuts", "wound", "wounds", "burns"};
constexpr std::array kMadeMore = {"made a few more", "made another", "made more", "did it again",
                                  "my own doing"};
constexpr std::array kSelfMadeFirst = {"제가한거",   "제가낸거",   "내가낸거",
                                       "제가만든거", "내가만든거", "내가한거"};
constexpr std::array kHospital = {"병원", "들킬", "비밀", "상처", "흉"};
// A cover story for an injury.
constexpr std::array kCoverStory = {"할퀸거라고",
                                    "코피라고",
                                    "넘어졌다고",
                                    "부딪혔다고",
                                    "부딪쳤다고",
                                    "다쳤다고",
                                    "falling down the stairs",
                                    "fell down the stairs",
                                    "walked into a door",
                                    "walked into the door"};
constexpr std::array kTold = {"둘러",   "했어요", "했는데",     "했어",   "거짓말",
                              "notice", "again",  "every time", "always", "keep saying"};
// Someone drinking, then what follows at home.
constexpr std::array kDrinkingEn = {
    "he drinks",  "she drinks", "he's drunk", "she's drunk", "he gets drunk", "she gets drunk",
    "술마시는날", "술드시면",   "술먹으면",   "술마시는",    "been drinking",
};
constexpr std::array kAtHome = {
    "falling down",
    "fall down",
    "bruise",
    "hits",
    "hit me",
    "hurts me",
    "scared",
    "hide",
    "hiding",
    "숨어",
    "다칠",
    "sleep at",
    "방으로부르",
    "부르시",
    "invisible",
    "out of the house",
    "the one he finds",
    "the one she finds",
};
// Shouting or anger at home, then hiding.
constexpr std::array kShouting = {"소리지르", "소리를지르", "화나면", "화내면", "yells", "screams"};
constexpr std::array kHiding = {"숨어", "숨는", "hide in", "hiding in", "옷장"};
// Hiding a wound, then what it is: "hide fresh marks".
constexpr std::array kHideVerb = {"hide", "cover", "conceal", "가리", "숨기"};
constexpr std::array kFreshWound = {"fresh marks", "fresh cuts", "the marks", "the cuts",
                                    "the scars",   "my scars",   "marks on",  "cuts on",
                                    "scars on",    "burns on",   "흉터",      "자국"};
// Blood found, then hidden.
constexpr std::array kBloodFound = {
    "blood on the", "blood on my",  "피가묻",    "묻은피",
    "피묻은",       "blood out of", "old blood", "피얼룩",
};
constexpr std::array kBloodHidden = {
    "towel",
    "sheet",
    "이불",
    "수건",
    "휴지",
    "둘러",
    "finding out",
    "what i do",
    "don't want",
    "뭐라고",
    "asking questions",
    "asks questions",
};
// A clean streak broken, then the urge or again.
constexpr std::array kCleanStreak = {"clean streak", "days clean", "clean days",
                                     "day clean",    "다시0일",    "0일로돌아"};
constexpr std::array kUrge = {"urge", "relapse", "again", "다시", "또", "못참", "참았"};
// Where the tool is kept, and the pull towards it.
constexpr std::array kPull = {"urge", "충동", "손이", "그거"};
constexpr std::array kDrawer = {"drawer", "서랍"};
// Punishment, then starving or hurting; and the reverse.
constexpr std::array kAsPunishment = {
    "벌로",      "벌받",      "as punishment", "as a punishment", "to punish myself",
    "i deserve", "deserve it"};
constexpr std::array kPunishingAct = {
    "굶", "skip meals", "skipped meals", "skip dinner",  "지져",      "찔러",
    "긋", "얼음물",     "손을담그",      "for two days", "don't eat", "didn't eat"};
constexpr std::array kStarving = {"skip meals",  "skipped meals",        "skipping meals",
                                  "skip dinner", "don't let myself eat", "굶"};
constexpr std::array kDeserved = {"as punishment", "punishment", "i deserve", "deserve it",
                                  "벌로",          "벌이",       "자격이없"};
// The relief first, then the sting.
constexpr std::array kReliefFirst = {"only thing that helps", "only thing that makes",
                                     "makes the pressure go away", "the only thing that"};
constexpr std::array kSting = {"the sting", "the burn", "the blade", "the pain of it"};
// A partner, then control over phone, money, friends or whereabouts.
constexpr std::array kPartner = {"husband",    "wife", "partner", "boyfriend",
                                 "girlfriend", "남편", "아내",    "남자친구",
                                 "여자친구",   "남친", "여친"};
constexpr std::array kControl = {
    "not allowed to see", "not allowed to have",
    "not allowed out",    "not allowed to leave",
    "won't let me see",   "won't let me go out",
    "doesn't let me see", "doesn't let me leave",
    "checks my phone",    "reads my messages",
    "reads my texts",     "검사",
    "못만나게",           "못나가게",
    "비밀번호를",         "비번",
    "인증해야",           "검색기록",
    "영상통화로",
};
// Someone who found out where I live or when I go.
constexpr std::array kFoundOut = {"knows my", "found my", "알아내", "알고있", "알아냈"};
constexpr std::array kWhereabouts = {"schedule", "new address", "address", "출근시간",
                                     "주소",     "퇴근시간",    "동선"};
// A secret with an adult, then how it feels or what happens.
constexpr std::array kSecret = {
    "our secret",   "between us", "비밀이래",    "비밀이라고", "비밀로하",     "secret이라고",
    "둘만의secret", "둘만의비밀", "not to tell", "말하지말래", "말하지말라고",
};
constexpr std::array kSecretHarm = {
    "feel weird", "dirty",          "i'm 1",       "im 1",       "late at night",
    "잠그",       "만지",           "싫어",        "무서",       "이상해",
    "가기가싫",   "shouldn't tell", "feels wrong", "feel wrong", "기분이이상",
};
// Disappearing in a mixed sentence: weak, holidays and apps say it too.
constexpr std::array kDisappear = {"disappear"};
// Korean water or a last message, then taking care or not being able to go on.
constexpr std::array kLastMessageEn = {"last message", "마지막메시지", "마지막메세지"};
constexpr std::array kCantGoOn = {"take care of yourself", "i can't anymore", "can't anymore",
                                  "cant anymore", "forgive me"};
// Stopping for good.
constexpr std::array kStopping = {"to stop", "it stop", "stop"};
constexpr std::array kForGood = {"for good", "permanently", "forever"};

// A pet rehomed or contracts cancelled, then everything sorted.
constexpr std::array kRehomed = {"up for adoption", "rehomed",     "rehome", "입양보냈", "입양보내",
                                 "cancelled my",    "canceled my", "해지했", "해지하고"};
constexpr std::array kSorted = {"sorted",     "정리됐",       "다정리",     "해지했",
                                "phone plan", "cancelled my", "canceled my"};
// How much of a means, then that it is for oneself.
constexpr std::array kHowMuch = {"how much", "how many", "does it take", "얼마나", "몇알"};
constexpr std::array kForMe = {"asking for me",    "asking for myself", "not for a class",
                               "not for homework", "제가먹으려",        "제가쓸"};
// A fake account, then my pictures; and my pictures, then a fake account.
constexpr std::array kFakeAccount = {"fake account", "fake profile", "가짜계정", "사칭계정",
                                     "가짜프로필"};
constexpr std::array kMyPictures = {"my photos", "my pictures", "my pics", "제사진",
                                    "내사진",    "sends them",  "보내"};
constexpr std::array kMyPicturesFirst = {"제사진으로", "내사진으로", "with my photos",
                                         "using my photos", "using my pictures"};
constexpr std::array kFaked = {"가짜계정", "fake account", "fake profile", "사칭"};
// Leaving the relationship, then a threat.
constexpr std::array kIfILeave = {"헤어지면", "떠나면", "if i leave", "if i ever leave",
                                  "if i break up"};
constexpr std::array kThreat = {"찾아낸",  "찾아가", "죽여", "가만안",
                                "find me", "kill",   "hurt", "ruin"};

// Something of mine promised away, then an unexplained reason.
constexpr std::array kPromised = {"can have my", "gets my", "가져도돼", "가지라고"};
constexpr std::array kUnexplained = {"doesn't know why", "not going to need", "won't need",
                                     "after i'm",        "이유는몰라",        "이유는모르"};
// Where the bankbook, seal or passwords are, written down for someone.
constexpr std::array kValuables = {
    "통장", "도장", "비밀번호", "passwords", "pin numbers", "logins", "인증서", "phone pin",
};
constexpr std::array kWrittenDown = {
    "적어서줬",       "적어뒀",     "적어놨",     "알려줬",
    "wrote down",     "넣어뒀",     "넣어놨",     "get into everything",
    "로그인할수있게", "헤매지않게", "제가없어도", "내가없어도",
};
// Hot water or an iron, then on purpose.
constexpr std::array kHeat = {"뜨거운물로", "뜨거운물에", "다리미로", "라이터로"};
constexpr std::array kDeliberately = {"일부러", "on purpose"};

// Families added with the third blind pair (development data since).
// The speaker or their body as the object, then a blow: "제 머리를 내리치고", "저를 걷어차요".
constexpr std::array kKoMe = {"제머리를", "내머리를", "제뺨을", "내뺨을", "제얼굴을",
                              "내얼굴을", "정강이를", "저를",   "나를",   "제배를"};
constexpr std::array kKoBlow = {"내리치", "내리쳤", "걷어차", "발로차", "찼어", "차요",
                                "할퀴",   "밀쳐",   "밀쳤",   "때리",   "때렸", "꼬집"};
// Feeling real or something, then the marks or blood that bring it.
constexpr std::array kFeelingReal = {"feel real", "feel something", "feel anything", "살아있는느낌",
                                     "살아있다는느낌"};
constexpr std::array kMarksSeen = {"marks", "cuts", "blood", "scars", "상처", "피를", "피가"};
// Thanks for everything, then belongings handed over.
constexpr std::array kHandedOver = {"너가져",       "가져가",  "너줄게", "드렸어", "갖다드렸",
                                    "you can have", "keep my", "나눔했", "나눠줬"};
// A floor height, then enough or certain.
constexpr std::array kKoFloors = {"층이면", "층높이면", "층에서떨어지면", "층정도면"};
constexpr std::array kKoEnough = {"충분", "죽을수", "확실", "살수있"};
// A drug or organ, then harm that cannot be undone.
constexpr std::array kMeansEn = {"liver",    "insulin", "acetaminophen",  "tylenol", "paracetamol",
                                 "타이레놀", "인슐린",  "아세트아미노펜", "간이"};
constexpr std::array kIrreversible = {"can't reverse", "cannot reverse", "can't be reversed",
                                      "irreversible",  "can't save",     "되돌릴수없",
                                      "손쓸수없",      "돌이킬수없"};
// How much of something, then the amount that kills.
constexpr std::array kTakeToKill = {"take to kill me", "take to kill myself", "enough to kill me",
                                    "enough to kill myself"};
// Sleeping pills or painkillers, then saving them up.
constexpr std::array kPillsSaved = {"수면제", "진통제", "알약", "약을", "pills"};
constexpr std::array kSavingUp = {"모아두", "모아놓", "모으려", "모아둘", "stockpile"};
// Not being around, then what should happen after.
constexpr std::array kNotAround = {"if i'm not around", "if im not around", "when i'm gone",
                                   "once i'm gone", "if i'm gone"};
constexpr std::array kAfterwards = {"won't matter", "make sure", "delete", "by then",
                                    "nobody sees"};
// My funeral, then what to play or wear.
constexpr std::array kFuneral = {"내장례식", "제장례식", "my funeral"};
constexpr std::array kFuneralPlans = {"틀어", "play", "playlist", "노래", "wear", "입고"};
// Those left behind, then a letter or a last word.
constexpr std::array kLeftBehind = {"남은사람들", "남겨질사람", "남은가족"};
constexpr std::array kLastLetter = {"편지", "마지막"};

// Families added with the fifth development pair.
// A relapse, then the self-harm it returns to.
constexpr std::array kRelapse = {"relapsed", "relapse"};
constexpr std::array kRelapseInto = {"cutting",   "cut",       "blade", "burning",
                                     "self harm", "self-harm", "자해"};
// An excuse, then long sleeves.
constexpr std::array kExcuse = {"excuse", "핑계"};
constexpr std::array kLongSleeves = {"long sleeves", "long sleeve", "긴팔", "긴소매"};
// A body part, then a cover story for it.
constexpr std::array kCoverUp = {"둘러대", "핑계", "뭐라고말"};
// Stitches, then not daring to go because of the questions.
constexpr std::array kStitches = {"stitches", "butterfly strips", "꿰매", "봉합"};
constexpr std::array kQuestions = {"ask how",  "how it happened", "들킬",
                                   "물어볼까", "연락가",          "연락이가"};
// Failing, then going without food as a rule.
constexpr std::array kFailing = {"망치면",    "실수하면",     "틀리면",
                                 "if i fail", "if i mess up", "when i fail"};
constexpr std::array kGoingWithout = {"skip", "굶", "안먹", "밥을안", "don't eat", "no dinner"};
// A passport or ID card, then kept from me.
constexpr std::array kPapers = {"passport", "여권", "신분증", "외국인등록증"};
constexpr std::array kKeptFrom = {"locked", "keeps",  "took", "뺏",
                                  "가져가", "갖고있", "safe", "금고"};
// A relative, then what they did that nobody knows.
constexpr std::array kUnknownDeed = {"저한테하던", "나한테하던", "하던일", "아무도몰라",
                                     "아무도모르"};

// Doing it again, then the scars.
constexpr std::array kDidItAgain = {"did the thing again", "did it again", "또했", "또그랬"};
constexpr std::array kScarsAfter = {"scars", "cuts", "marks", "흉터", "상처", "자국"};

struct CuePairs {
    std::span<const char* const> first;
    std::span<const char* const> second;
    std::size_t window;  // bytes allowed between the end of the first cue and the second
    // A family that also describes scenes and news ("옥상에서 떨어지는 장면") counts as weak
    // evidence, so look-alike framing can veto it.
    bool weak = false;
};
constexpr std::array kCuePairs = {
    CuePairs{kKoAgents, kKoAbuse, 36},
    CuePairs{kKoGone, kKoRelief, 30},
    CuePairs{kKoSelfContempt, kKoVanish, 24},
    CuePairs{kKoQuantity, kKoLethal, 36},
    CuePairs{kKoPlace, kKoLastAct, 96, true},
    CuePairs{kKoBody, kKoWound, 24},
    CuePairs{kKoOnPurpose, kKoSelfInjury, 30},
    CuePairs{kMixedCrisisVerb, kMixedWanting, 1},
    CuePairs{kKoPicture, kKoSpread, 60},
    CuePairs{kOverdose, kDoing, 1},
    CuePairs{kBurden, kOnly, 1, true},
    CuePairs{kTool, kAgain, 1},
    CuePairs{kSleeves, kHidden, 45},
    CuePairs{kHiddenFirst, kSleevesSecond, 12},
    CuePairs{kWall, kStrike, 20},
    CuePairs{kNight, kIntrusion, 30},
    CuePairs{kDrinking, kDrunkViolence, 40},
    CuePairs{kIncapacitated, kNoMemory, 30},
    CuePairs{kTreasured, kGivenAway, 75},
    CuePairs{kLiving, kReason, 1},
    CuePairs{kQuitting, kLife, 12},
    CuePairs{kLife, kQuitting, 12},
    CuePairs{kLiving2, kHate, 9},
    CuePairs{kPills, kGathered, 12},
    CuePairs{kVanishing, kForever, 4},
    CuePairs{kHighPlace, kNoBarrier, 40},
    CuePairs{kThanksForAll, kGoodbye, 12},
    CuePairs{kMethod, kSurer, 8},
    CuePairs{kMedicine, kAllAtOnce, 24},
    CuePairs{kHoarding, kPillsEn, 20},
    CuePairs{kAgainFirst, kBladeOut, 12},
    CuePairs{kHowHigh, kFall, 90},
    CuePairs{kVehicleHit, kNotMinding, 80},
    CuePairs{kDressings, kAgainAndAgain, 60},
    CuePairs{kPain, kPainRelief, 60},
    CuePairs{kMarks, kCovering, 50, true},
    CuePairs{kConcealer, kBruise, 30},
    CuePairs{kAffairs, kSettled, 90},
    CuePairs{kThanks, kLastMessage, 60},
    CuePairs{kLetter, kLeftReady, 40},
    CuePairs{kGiven, kNoLongerNeeded, 50},
    CuePairs{kPet, kProvidedFor, 60},
    CuePairs{kRefusing, kLosing, 60},
    CuePairs{kPictures, kToEveryone, 60},
    CuePairs{kEvaded, kFoundAgain, 40},
    CuePairs{kMoney, kHeld, 60},
    CuePairs{kWatched, kDemanded, 60},
    CuePairs{kAlone, kComingIn, 40},
    CuePairs{kAnger, kPunishment, 60},
    CuePairs{kArriving, kFear, 60},
    CuePairs{kBodyMarks, kWorse, 40},
    CuePairs{kSelfHarmWord, kDone, 1},
    CuePairs{kBladeKept, kNotForUse, 60},
    CuePairs{kExposed, kSeen, 60},
    CuePairs{kInjured, kOnPurposeEn, 40},
    CuePairs{kPointOf, kEnduring, 8},
    CuePairs{kEnduringFirst, kMeaningless, 20},
    CuePairs{kAsleep, kNeverWaking, 20},
    CuePairs{kAtPeace, kNotBeing, 8},
    CuePairs{kWontNeed, kWhereGoing, 40},
    CuePairs{kWaking, kWakingDismay, 40},
    CuePairs{kResearching, kTheAct, 3},
    CuePairs{kHighPlaceEn, kJumping, 60, true},
    CuePairs{kShutIn, kEngine, 40},
    CuePairs{kInsurance, kStagedDeath, 90, true},
    CuePairs{kColdWater, kLasting, 60, true},
    CuePairs{kHeaven, kGoingThere, 80},
    CuePairs{kLastWords, kPassedOn, 30, true},
    CuePairs{kUnsaid, kLeaving, 8, true},
    CuePairs{kWound, kSelfMade, 60},
    CuePairs{kWoundEn, kMadeMore, 60, true},
    CuePairs{kSelfMadeFirst, kHospital, 40},
    CuePairs{kCoverStory, kTold, 20, true},
    CuePairs{kDrinkingEn, kAtHome, 50},
    CuePairs{kShouting, kHiding, 60, true},
    CuePairs{kHideVerb, kFreshWound, 30, true},
    CuePairs{kBloodFound, kBloodHidden, 40, true},
    CuePairs{kCleanStreak, kUrge, 40, true},
    CuePairs{kPull, kDrawer, 40, true},
    CuePairs{kDrawer, kPull, 40, true},
    CuePairs{kAsPunishment, kPunishingAct, 40},
    CuePairs{kStarving, kDeserved, 40},
    CuePairs{kReliefFirst, kSting, 60},
    CuePairs{kPartner, kControl, 60, true},
    CuePairs{kFoundOut, kWhereabouts, 20, true},
    CuePairs{kSecret, kSecretHarm, 80, true},
    CuePairs{kDisappear, kMixedWanting, 1, true},
    CuePairs{kLastMessageEn, kCantGoOn, 80},
    CuePairs{kStopping, kForGood, 1, true},
    CuePairs{kRehomed, kSorted, 60, true},
    CuePairs{kHowMuch, kForMe, 90, true},
    CuePairs{kFakeAccount, kMyPictures, 40},
    CuePairs{kMyPicturesFirst, kFaked, 20},
    CuePairs{kIfILeave, kThreat, 40},
    CuePairs{kPromised, kUnexplained, 60},
    CuePairs{kValuables, kWrittenDown, 90, true},
    CuePairs{kHeat, kDeliberately, 30},
    CuePairs{kKoMe, kKoBlow, 12},
    CuePairs{kFeelingReal, kMarksSeen, 60},
    CuePairs{kThanksForAll, kHandedOver, 90, true},
    CuePairs{kKoFloors, kKoEnough, 24, true},
    CuePairs{kMeansEn, kIrreversible, 90, true},
    CuePairs{kHowMuch, kTakeToKill, 90},
    CuePairs{kPillsSaved, kSavingUp, 90, true},
    CuePairs{kNotAround, kAfterwards, 90, true},
    CuePairs{kFuneral, kFuneralPlans, 40, true},
    CuePairs{kLeftBehind, kLastLetter, 40, true},
    CuePairs{kRelapse, kRelapseInto, 20},
    CuePairs{kExcuse, kLongSleeves, 40, true},
    CuePairs{kKoBody, kCoverUp, 90, true},
    CuePairs{kStitches, kQuestions, 90, true},
    CuePairs{kFailing, kGoingWithout, 30, true},
    CuePairs{kPapers, kKeptFrom, 30, true},
    CuePairs{kKoAgents, kUnknownDeed, 60, true},
    CuePairs{kDidItAgain, kScarsAfter, 60, true},
};

// Patterns are registered strong, weak, framing, excluded, then each cue family's first and second
// cues in turn, so a pattern's index says which family it belongs to.
constexpr std::size_t kCueBase = kStrong.size() + kWeak.size() + kFraming.size() + kExcluded.size();

std::size_t cue_family(std::size_t pattern) noexcept {
    std::size_t end = kCueBase;
    for (std::size_t f = 0; f < kCuePairs.size(); ++f) {
        end += kCuePairs[f].first.size() + kCuePairs[f].second.size();
        if (pattern < end) return f;
    }
    return kCuePairs.size();
}

// English token classes for the first-person and abuse patterns.
// Each class keeps a 64-bit signature of its words (a bit per length, first and last byte
// combination): most tokens of a query miss its bit and are rejected by one test instead of a
// string compare per word, which a long query would otherwise repeat for every token.
constexpr unsigned word_signature(std::string_view w) {
    return (static_cast<unsigned>(w.size()) * 31U + static_cast<unsigned char>(w.front()) * 7U +
            static_cast<unsigned char>(w.back())) &
           63U;
}

template <std::size_t N>
struct WordSet {
    std::array<std::string_view, N> words;
    std::uint64_t signature = 0;
};

template <typename T, std::size_t N>
constexpr WordSet<N> word_set(const T (&words)[N]) {
    WordSet<N> set{};
    for (std::size_t i = 0; i < N; ++i) {
        set.words[i] = words[i];
        set.signature |= std::uint64_t{1} << word_signature(set.words[i]);
    }
    return set;
}

constexpr auto kSelf =
    word_set<std::string_view>({"i", "im", "i'm", "ive", "i've", "i'll", "i'd", "myself", "me"});
constexpr auto kEnding = word_set<std::string_view>({"die", "suicidal", "unalive", "kms"});
// A word between the subject and the verb that makes something else the one dying ("i think my
// laptop will die").
constexpr auto kOtherSubject =
    word_set<std::string_view>({"my", "the", "this", "it", "a", "an", "that", "your", "his", "her",
                                "our", "their", "its", "you"});
constexpr auto kNotEnding = word_set<std::string_view>({"for", "of", "laughing", "without"});
// "die my hair": the next but one word says it is dye.
constexpr auto kDyed = word_set<std::string_view>({"hair", "roots", "beard", "bangs", "eyebrows"});
constexpr auto kHarmVerbs = word_set<std::string_view>(
    {"kill",     "kil",     "killing",  "end",     "ending",  "hurt",     "hurting", "harm",
     "harming",  "cut",     "cutting",  "burn",    "burning", "hang",     "hanging", "starve",
     "starving", "punish",  "hit",      "hitting", "stab",    "stabbing", "poison",  "poisoning",
     "shoot",    "drown",   "drowning", "choke",   "choking", "scratch",  "slash",   "slit",
     "beat",     "beating", "punch",    "injure",  "bruise",  "overdose"});
// Deliberate injury to a body part ("i burn my arms", "hitting my legs"): present-tense verbs, so
// an accident told in the past ("i burned my hand on the oven") does not match.
constexpr auto kInjuryVerbs = word_set<std::string_view>(
    {"cut",      "cutting", "carve",    "carving",    "burn",    "burning", "slash",
     "slashing", "slit",    "scratch",  "scratching", "hit",     "hitting", "punch",
     "punching", "stab",    "stabbing", "beat",       "beating", "bruise",  "bruising",
     "bite",     "biting",  "pick",     "picking",    "dig",     "hurting"});
constexpr auto kBody = word_set<std::string_view>(
    {"arm", "arms", "wrist", "wrists", "thigh", "thighs", "leg", "legs", "skin", "stomach", "body",
     "forearm", "forearms", "hips", "chest", "fingers", "knuckles"});
constexpr auto kAgents = word_set<std::string_view>(
    {"he",          "she",        "they",        "someone",     "somebody",   "boyfriend",
     "bf",          "girlfriend", "gf",          "husband",     "wife",       "partner",
     "ex",          "dad",        "father",      "mom",         "mother",     "mum",
     "stepdad",     "stepfather", "stepmom",     "stepmother",  "parents",    "uncle",
     "aunt",        "brother",    "sister",      "cousin",      "boss",       "manager",
     "coach",       "teacher",    "coworker",    "step-dad",    "he'll",      "she'll",
     "he's",        "she's",      "he'd",        "she'd",       "they'll",    "grandpa",
     "grandfather", "grandma",    "grandmother", "stepbrother", "stepsister", "fiance",
     "fiancé",      "fiancee",    "fiancée",     "classmates",  "kids",       "guys",
     "guy",         "neighbor",   "roommate",    "supervisor"});
constexpr auto kAbuseVerbs = word_set<std::string_view>(
    {"hit",      "hits",      "hitting",   "beat",      "beats",      "beating",   "punch",
     "punches",  "punched",   "slap",      "slaps",     "slapped",    "slapping",  "kick",
     "kicks",    "kicked",    "kicking",   "choke",     "chokes",     "choked",    "choking",
     "strangle", "strangles", "strangled", "push",      "pushed",     "shoved",    "shoves",
     "grab",     "grabbed",   "grabs",     "grabbing",  "grope",      "groped",    "touch",
     "touches",  "touched",   "threaten",  "threatens", "threatened", "hurt",      "hurts",
     "burns",    "burn",      "burned",    "corner",    "corners",    "cornering", "cornered",
     "pin",      "pinned",    "whip",      "whips",     "whipped",    "rape",      "raped",
     "molest",   "molests",   "stalk",     "stalks",    "tracks",     "film",      "films",
     "filmed",   "lock",      "locks",     "locked",    "controls",   "blackmail", "blackmails"});
constexpr auto kObjects = word_set<std::string_view>({"me", "us", "my"});
constexpr auto kInstrument = word_set<std::string_view>({"with", "using"});

template <std::size_t N>
bool in(const WordSet<N>& set, std::string_view token) {
    if (token.empty() || ((set.signature >> word_signature(token)) & 1U) == 0) return false;
    return std::find(set.words.begin(), set.words.end(), token) != set.words.end();
}

bool is_hangul(char32_t cp) noexcept {
    return (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0x1100 && cp <= 0x11FF) ||
           (cp >= 0x3130 && cp <= 0x318F);
}

bool is_token_char(char32_t cp) noexcept {
    return is_latin_word_char(cp) || cp == U'\'' || cp == U'*' || cp == U'@' || cp == U'-';
}

// is_token_char for the ASCII code points, looked up instead of tested range by range.
constexpr std::array<bool, 128> kAsciiTokenChar = [] {
    std::array<bool, 128> table{};
    for (char32_t c = 0; c < 128; ++c) {
        table[c] = (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') ||
                   (c >= U'0' && c <= U'9') || c == U'\'' || c == U'*' || c == U'@' || c == U'-';
    }
    return table;
}();

// Whether the code point at `pos` of valid UTF-8 is a token character; advances `pos` past it.
bool token_char_at(std::string_view text, std::size_t& pos) {
    const auto b = static_cast<unsigned char>(text[pos]);
    if (b < 0x80U) {
        ++pos;
        return kAsciiTokenChar[b];
    }
    return is_token_char(decode_valid(text, pos));
}

void compact_into(std::string_view text, std::string& out) {
    // The result is never longer than the text (blanks collapse, quotes shrink), so it is
    // written in place and cut to length; code points are copied as their own bytes.
    out.resize(text.size());
    char* const first = out.data();
    char* last = first;
    std::size_t pos = 0;
    bool pending_space = false;
    char32_t previous = 0;
    while (pos < text.size()) {
        const auto byte = static_cast<unsigned char>(text[pos]);
        if (byte < 0x80U) {
            // ASCII is never Hangul or a curly quote: a pending blank is always kept before it.
            ++pos;
            if (is_space(byte)) {
                pending_space = last != first;
                continue;
            }
            if (pending_space) *last++ = ' ';
            pending_space = false;
            *last++ = static_cast<char>(byte);
            previous = byte;
            continue;
        }
        const std::size_t begin = pos;
        const char32_t cp = decode_valid(text, pos);
        if (is_space(cp)) {
            pending_space = last != first;
            continue;
        }
        // Curly quotes read as the ASCII apostrophe, and full-width ASCII (U+FF01..U+FF5E,
        // which Korean input methods produce: "ｋｉｌｌ ｍｙｓｅｌｆ") as ASCII; both are shorter.
        const bool quote = cp == 0x2019 || cp == 0x2018;
        const bool wide = cp >= 0xFF01 && cp <= 0xFF5E;
        const char32_t kept = quote ? U'\'' : wide ? cp - 0xFEE0 : cp;
        if (pending_space && !(is_hangul(previous) && is_hangul(kept))) *last++ = ' ';
        pending_space = false;
        if (quote || wide) {
            *last++ = static_cast<char>(kept);
        } else {
            for (std::size_t b = begin; b < pos; ++b) *last++ = text[b];
        }
        previous = kept;
    }
    out.resize(static_cast<std::size_t>(last - first));
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

// Korean that turns a crisis phrase into a description of someone else or of a scene: "자해하는
// 학생", "죽고 싶다는 말을 (친구가)", "뛰어내리는 장면". Such a phrase counts as weak evidence.
constexpr auto kSaidOfAnother = std::to_array<std::string_view>({
    "는학생",     "는아이",   "는친구",   "는환자",   "는청소년",   "는애들",   "는장면",
    "는씬",       "는캐릭터", "는주인공", "는내용",   "는뉴스",     "는기사",   "는영화",
    "는드라마",   "다는말",   "다는친구", "다는얘기", "다는이야기", "다는학생", "한다고털어",
    "한다고말해", "한대요",   "한다는",   "왔대",     "를했던친구", "했던친구", "하는것같아",
});

bool said_of_another(std::string_view text, std::size_t end) {
    const std::string_view rest = text.substr(end);
    return std::any_of(kSaidOfAnother.begin(), kSaidOfAnother.end(),
                       [&](std::string_view tail) { return rest.starts_with(tail); });
}

// The compacted query, reused per thread by the entry points below (none calls another).
struct CompactText {
    std::string text;
};

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
    for (const CuePairs& family : kCuePairs) {
        for (const char* p : family.first) add(p, Kind::cue_first);
        for (const char* p : family.second) add(p, Kind::cue_second);
    }
    automaton_ = AhoCorasick(patterns_);
    weights_.assign(kModelBuckets, 0.0F);
    for (std::size_t i = 0; i < kModelIndex.size(); ++i) weights_[kModelIndex[i]] = kModelWeight[i];
}

double CrisisDetector::model_threshold() noexcept { return kModelThreshold; }

// Learned model features: every 2- to 4-code-point window of " " + compact text + " ", hashed
// (FNV-1a, 32 bit, over its UTF-8 bytes) into kModelBuckets buckets, counts L2-normalised.
double CrisisDetector::logit(std::string_view compacted) const {
    // Buffers only grow (to the longest query seen), so a warm call neither allocates nor
    // clears them; the counts below say how much of each is in use.
    struct Scratch {
        std::string padded;
        std::vector<std::uint32_t> starts;
        std::vector<std::uint32_t> buckets;
        std::vector<std::uint32_t> counts;  // per bucket, all zero between calls
    };
    Scratch& s = thread_scratch<Scratch>();
    auto& padded = s.padded;
    padded.assign(1, ' ');
    padded.append(compacted);
    padded.push_back(' ');
    const std::size_t size = padded.size();
    if (s.buckets.size() < 3 * size) s.buckets.resize(3 * size);
    std::uint32_t* const first = s.buckets.data();
    std::uint32_t* last = first;
    const auto fnv = [](std::uint32_t h, char byte) {
        return (h ^ static_cast<unsigned char>(byte)) * 16777619U;
    };
    constexpr std::uint32_t basis = 2166136261U;
    constexpr std::uint32_t mask = kModelBuckets - 1U;
    // FNV-1a is a running hash, so the 2-, 3- and 4-grams starting at one code point are the
    // same hash fed one more code point each time: one pass, no per-gram rehashing.
    const bool ascii = std::all_of(padded.begin(), padded.end(),
                                   [](char c) { return static_cast<unsigned char>(c) < 0x80U; });
    if (ascii) {
        // A code point per byte: no offsets, and the loops run a fixed number of times.
        const char* p = padded.data();
        std::size_t i = 0;
        for (; i + 4 <= size; ++i) {
            std::uint32_t h = fnv(fnv(basis, p[i]), p[i + 1]);
            *last++ = h & mask;
            h = fnv(h, p[i + 2]);
            *last++ = h & mask;
            *last++ = fnv(h, p[i + 3]) & mask;
        }
        for (; i + 2 <= size; ++i) {
            std::uint32_t h = fnv(basis, p[i]);
            for (std::size_t b = i + 1; b < size && b < i + 4; ++b) {
                h = fnv(h, p[b]);
                *last++ = h & mask;
            }
        }
    } else {
        if (s.starts.size() < size + 1) s.starts.resize(size + 1);
        std::uint32_t* starts = s.starts.data();
        std::size_t cps = 0;
        for (std::size_t pos = 0; pos < size;) {
            starts[cps++] = static_cast<std::uint32_t>(pos);
            decode_valid(padded, pos);
        }
        starts[cps] = static_cast<std::uint32_t>(size);
        for (std::size_t i = 0; i + 2 <= cps; ++i) {
            std::uint32_t h = basis;
            for (std::size_t n = 1; n <= 4 && i + n <= cps; ++n) {
                for (std::size_t b = starts[i + n - 1]; b < starts[i + n]; ++b)
                    h = fnv(h, padded[b]);
                if (n >= 2) *last++ = h & mask;
            }
        }
    }
    const auto used = static_cast<std::size_t>(last - first);
    if (used == 0) return kModelBias;
    // The dot product needs no counts: each window adds its bucket's weight. The squared norm,
    // Σ count², grows by 2·count + 1 as a bucket's count goes up by one, kept in a per-thread
    // table of counts that is cleared again by the same windows, so nothing is sorted.
    if (s.counts.empty()) s.counts.assign(kModelBuckets, 0U);
    std::uint32_t* counts = s.counts.data();
    double dot = 0.0;
    std::uint64_t squares = 0;
    for (const std::uint32_t* b = first; b != last; ++b) {
        dot += static_cast<double>(weights_[*b]);
        squares += 2U * std::uint64_t{counts[*b]} + 1U;
        ++counts[*b];
    }
    for (const std::uint32_t* b = first; b != last; ++b) counts[*b] = 0;
    return kModelBias + dot / std::sqrt(static_cast<double>(squares));
}

double CrisisDetector::model_score(std::string_view normalized) const {
    std::string& text = thread_scratch<CompactText>().text;
    compact_into(normalized, text);
    return 1.0 / (1.0 + std::exp(-logit(text)));
}

CrisisVerdict CrisisDetector::analyse(std::string_view text, std::vector<std::string>* evidence,
                                      bool stop_at_strong) const {
    struct Scratch {
        std::vector<std::pair<std::size_t, std::size_t>> hits;  // (pattern, end)
        std::vector<std::pair<std::size_t, std::size_t>> excluded;
        std::vector<std::pair<std::size_t, std::size_t>> first_cues;  // (pattern, end)
        std::vector<std::string_view> tokens;
    };
    Scratch& s = thread_scratch<Scratch>();
    auto& hits = s.hits;
    auto& excluded = s.excluded;
    auto& first_cues = s.first_cues;
    auto& tokens = s.tokens;
    hits.clear();
    excluded.clear();
    first_cues.clear();
    bool strong = false;
    bool weak = false;
    bool framing = false;
    std::vector<std::string> weak_phrases;
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
            case Kind::cue_first:
                first_cues.emplace_back(p, end);
                break;
            case Kind::cue_second: {
                const std::size_t family = cue_family(p);
                for (const auto& [first, a] : first_cues) {
                    if (a <= start && start - a <= kCuePairs[family].window &&
                        cue_family(first) == family) {
                        if (kCuePairs[family].weak || said_of_another(text, end)) {
                            weak = true;
                            if (evidence != nullptr) {
                                weak_phrases.push_back("pattern: " + patterns_[first] + " … " +
                                                       patterns_[p]);
                            }
                            break;
                        }
                        strong = true;
                        if (evidence != nullptr) {
                            evidence->push_back("pattern: " + patterns_[first] + " … " +
                                                patterns_[p]);
                        }
                        break;
                    }
                }
                break;
            }
            case Kind::strong:
            case Kind::weak:
                hits.emplace_back(p, end);
                break;
        }
    });
    for (const auto& [p, end] : hits) {
        const std::size_t start = end - patterns_[p].size();
        const bool inside = std::any_of(excluded.begin(), excluded.end(), [&](const auto& span) {
            return span.first <= start && end <= span.second;
        });
        if (inside) continue;
        if (kinds_[p] == Kind::strong && !(latin_start_[p] == 0 && said_of_another(text, end))) {
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
        if (!token_char_at(text, pos)) continue;
        std::size_t end = pos;
        while (end < text.size()) {
            std::size_t next = end;
            if (!token_char_at(text, next)) break;
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
        const bool dyed = i + 2 < tokens.size() && in(kDyed, tokens[i + 2]);
        if (in(kEnding, t) && !dyed && !(i + 1 < tokens.size() && in(kNotEnding, tokens[i + 1]))) {
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
        const bool own = i > 1 && tokens[i - 1] == "own" && tokens[i - 2] == "my";
        // "my own head" is deliberate; "my head" alone is mostly an accident.
        const bool own_head = own && (t == "head" || t == "face");
        if ((in(kBody, t) && i > 0 && (tokens[i - 1] == "my" || own)) || own_head) {
            for (std::size_t j = own ? i - 2 : i - 1; j-- > 0 && i - j <= 5;) {
                if (in(kInstrument, tokens[j])) break;
                if (in(kInjuryVerbs, tokens[j])) {
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
    std::string& text = thread_scratch<CompactText>().text;
    compact_into(normalized, text);
    return analyse(text, nullptr, false);
}

std::vector<std::string> CrisisDetector::matches(std::string_view normalized) const {
    std::string& text = thread_scratch<CompactText>().text;
    compact_into(normalized, text);
    std::vector<std::string> out;
    const CrisisVerdict v = analyse(text, &out, false);
    if (!decide(v, text, &out)) out.clear();
    return out;
}

bool CrisisDetector::detect(std::string_view normalized) const {
    std::string& text = thread_scratch<CompactText>().text;
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
