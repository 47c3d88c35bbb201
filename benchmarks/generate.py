"""Deterministic synthetic ShareGPT corpus with planted defects, for benchmarks (stdlib only).

Run: `python benchmarks/generate.py N OUT.jsonl [--seed S] [--truth TRUTH.jsonl]`.
Half Chinese, half English; outpatient-clinic and bank customer-service dialogues of 2-8 turns,
about 1.5 KB a record. Defects are planted at small fixed rates and listed in the truth file.
Same N and seed give byte-identical output.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# --- defect rates: fractions of all records; at most one defect per record ------------------

RATES: tuple[tuple[str, float], ...] = (
    ("exact_duplicate", 0.02),
    ("near_duplicate", 0.01),
    ("echo", 0.005),
    ("empty_turn", 0.005),
    ("ends_with_user", 0.005),
    ("broken_line", 0.001),
)
SYSTEM_RATE = 0.15
# Originals for duplicates come from a reservoir sample of earlier clean dialogues, so copies
# point all over the file without keeping every dialogue in memory.
POOL_SIZE = 4096

# --- entities: (Chinese, English) pairs, so a dialogue's language is a single index ----------

DISEASES = (
    ("高血压", "hypertension"),
    ("2型糖尿病", "type 2 diabetes"),
    ("慢性胃炎", "chronic gastritis"),
    ("急性支气管炎", "acute bronchitis"),
    ("偏头痛", "migraine"),
    ("甲状腺功能亢进", "hyperthyroidism"),
    ("痛风", "gout"),
    ("过敏性鼻炎", "allergic rhinitis"),
    ("冠心病", "coronary heart disease"),
    ("失眠症", "insomnia"),
    ("缺铁性贫血", "iron-deficiency anaemia"),
    ("腰椎间盘突出", "a herniated lumbar disc"),
    ("高脂血症", "high cholesterol"),
    ("反流性食管炎", "acid reflux"),
)
DRUGS = (
    ("阿莫西林", "amoxicillin"),
    ("二甲双胍", "metformin"),
    ("氨氯地平", "amlodipine"),
    ("布洛芬", "ibuprofen"),
    ("奥美拉唑", "omeprazole"),
    ("阿托伐他汀", "atorvastatin"),
    ("氯雷他定", "loratadine"),
    ("甲巯咪唑", "methimazole"),
    ("别嘌醇", "allopurinol"),
    ("硫酸亚铁", "ferrous sulfate"),
    ("缬沙坦", "valsartan"),
    ("阿司匹林", "aspirin"),
)
DEPARTMENTS = (
    ("心内科", "cardiology"),
    ("内分泌科", "endocrinology"),
    ("消化内科", "gastroenterology"),
    ("呼吸内科", "respiratory medicine"),
    ("神经内科", "neurology"),
    ("骨科", "orthopaedics"),
    ("耳鼻喉科", "the ENT clinic"),
    ("全科门诊", "general practice"),
)
SYMPTOMS = (
    ("头晕", "dizziness"),
    ("口渴多尿", "thirst and frequent urination"),
    ("胃痛", "stomach pain"),
    ("咳嗽有痰", "a productive cough"),
    ("胸闷", "chest tightness"),
    ("睡不着觉", "trouble sleeping"),
    ("关节肿痛", "swollen, painful joints"),
    ("浑身乏力", "constant fatigue"),
    ("心慌", "palpitations"),
    ("鼻塞流涕", "a blocked, runny nose"),
    ("腰疼", "lower back pain"),
)
DURATIONS = (
    ("三天", "three days"),
    ("一周", "a week"),
    ("两周", "two weeks"),
    ("一个月", "a month"),
    ("半年", "six months"),
    ("一年多", "over a year"),
)
PRODUCTS = (
    ("信用卡", "credit card"),
    ("房贷", "mortgage"),
    ("定期存款", "fixed deposit"),
    ("理财产品", "wealth management product"),
    ("借记卡", "debit card"),
    ("消费贷", "personal loan"),
    ("车贷", "car loan"),
    ("外汇账户", "foreign currency account"),
    ("手机银行", "mobile banking app"),
)
REQUESTS = (
    ("额度调整", "a credit limit increase"),
    ("账单分期", "splitting a bill into instalments"),
    ("提前还款", "early repayment"),
    ("挂失补办", "reporting a lost card and getting a new one"),
    ("密码重置", "resetting my PIN"),
    ("年费减免", "waiving the annual fee"),
    ("转账限额", "raising the transfer limit"),
    ("利率查询", "checking the interest rate"),
    ("销户", "closing the account"),
)
BRANCHES = (
    ("人民路支行", "Main Street branch"),
    ("高新区支行", "Riverside branch"),
    ("中山路支行", "Station Road branch"),
    ("滨江支行", "Harbour branch"),
    ("东城支行", "East Gate branch"),
)
SURNAMES = (
    ("王", "Wang"),
    ("李", "Li"),
    ("张", "Zhang"),
    ("刘", "Liu"),
    ("陈", "Chen"),
    ("杨", "Smith"),
    ("黄", "Jones"),
    ("赵", "Brown"),
    ("吴", "Taylor"),
    ("周", "Wilson"),
    ("徐", "Davies"),
    ("孙", "Evans"),
    ("马", "Thomas"),
    ("朱", "Johnson"),
    ("胡", "Roberts"),
    ("郭", "Walker"),
    ("何", "Wright"),
    ("高", "Robinson"),
    ("林", "Thompson"),
    ("罗", "Garcia"),
)
GIVEN_NAMES = (
    ("伟", "James"),
    ("芳", "Mary"),
    ("娜", "Priya"),
    ("秀英", "Linda"),
    ("敏", "David"),
    ("静", "Sarah"),
    ("丽", "Ahmed"),
    ("强", "Michael"),
    ("磊", "Emma"),
    ("军", "Daniel"),
    ("洋", "Olivia"),
    ("勇", "Tom"),
    ("艳", "Grace"),
    ("杰", "Lucas"),
    ("娟", "Sofia"),
    ("涛", "Ben"),
    ("明", "Hannah"),
    ("超", "Omar"),
    ("秀兰", "Chloe"),
    ("霞", "Mei"),
)
MONTHS_EN: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Common characters / letters for near-duplicate edits, by language index.
EDIT_CHARS = ("的一是了我不人在有这个上们来到时大地为子中你说生年着就那和要出也得里后自以会", "etaoinshrdlu")

# --- sentence templates: [language][domain][speaker] -> tuple of format strings --------------
# Domain 0 is the clinic, 1 the bank; speaker 0 the human, 1 the assistant.

CLINIC_ZH_HUMAN = (
    "医生您好，我今年{age}岁，最近{dur}一直{sym}，是不是{dis}又加重了？",
    "我去年在{dept}确诊了{dis}，现在每天吃{drug}{mg}毫克，体重{kg}公斤，想问一下还要继续吃吗？",
    "这{dur}里{sym}的情况越来越明显，早上量血压是{bp}，晚上也休息不好，需要挂哪个科？",
    "上次开的{drug}吃完了，{date}复查的时候血压是{bp}，这个数值正常吗？",
    "我今年{age}岁，家里老人也有{dis}，我担心自己会遗传，平时需要注意些什么？",
    "从{date}开始吃{drug}以后偶尔会有点{sym}，这是不是药物的副作用？",
    "请问{dept}周几有专家门诊？我想{date}过来看一下。",
    "另外我体重{kg}公斤，最近饮食不太规律，会不会影响{dis}的控制？",
    "我今年{age}岁，对青霉素过敏，{drug}我能吃吗？",
    "如果只是{sym}，体温{temp}度，先在家观察几天可以吗？",
)
CLINIC_ZH_GPT = (
    "根据您描述的{sym}症状，持续了{dur}，建议尽快到{dept}就诊，医生会结合检查结果判断是否与{dis}有关。",
    "{drug}通常每次{mg}毫克，每天{times}次，具体剂量请务必遵医嘱，不要自行加量或停药。",
    "{dis}属于需要长期管理的慢性病，除了按时服药，还要低盐低脂饮食、规律作息并定期复查。",
    "您提到的血压{bp}略高于正常范围，建议每天早晚各测量一次并记录下来，复诊时带给医生参考。",
    "如果出现剧烈头痛、胸痛、呼吸困难或意识模糊等情况，请立即拨打急救电话或前往急诊。",
    "{dept}的专家门诊一般在工作日上午开放，您可以通过医院公众号提前预约{date}的号源。",
    "服用{drug}期间如果出现皮疹、恶心或{sym}加重，请及时停药并联系医生。",
    "体重{kg}公斤的话，适当控制饮食总热量、每周保持三到五次中等强度运动，对{dis}的控制会有帮助。",
    "检查项目可能包括血常规、肝肾功能和心电图，建议空腹前往，整个流程大约需要半天时间。",
    "以上建议仅供参考，不能替代面诊，最终的诊断和治疗方案请以医生的意见为准。",
    "家族中有{dis}病史的人群风险确实更高，建议从现在开始每半年做一次体检。",
)
CLINIC_EN_HUMAN = (
    "Hi doctor, I'm {age} and I've had {sym} for about {dur} now. Could it be my {dis} getting worse?",
    "I was diagnosed with {dis} at {dept} last year and take {mg} mg of {drug} every day; I weigh {kg} kg. "
    "Should I keep taking it?",
    "The {sym} has been getting worse for {dur} now, my blood pressure was {bp} this morning and I can't "
    "sleep well. Which clinic should I book?",
    "I ran out of {drug}. At my check-up on {date_en} my blood pressure was {bp}. Is that normal?",
    "I'm {age} and both my parents have {dis}. I'm worried it runs in the family; what should I watch for?",
    "Since starting {drug} on {date_en} I sometimes get {sym}. Could that be a side effect?",
    "Which days does {dept} have a specialist clinic? I'd like to come in on {date_en}.",
    "I weigh {kg} kg and my eating has been irregular lately. Will that affect my {dis}?",
    "I'm {age} and allergic to penicillin. Is it safe for me to take {drug}?",
    "If it's only {sym} and my temperature is {temp} °C, is it fine to wait a few days at home first?",
)
CLINIC_EN_GPT = (
    "Given the {sym} you describe, lasting {dur}, I'd recommend seeing {dept} soon; the doctor will "
    "check whether it is related to your {dis}.",
    "The usual dose of {drug} is {mg} mg, {times} times a day, but please follow your prescription exactly "
    "and don't change the dose or stop on your own.",
    "Conditions like {dis} need long-term care: besides taking your medication on time, a low-salt, "
    "low-fat diet, regular sleep and follow-up checks all matter.",
    "A reading of {bp} is a little above the normal range. Measure it morning and evening for a week "
    "and bring the log to your next appointment.",
    "If you get a severe headache, chest pain, shortness of breath or confusion, call an ambulance or go "
    "to the emergency department straight away.",
    "Specialist sessions at {dept} usually run on weekday mornings; you can book a slot for {date_en} "
    "through the hospital app.",
    "While taking {drug}, stop and contact your doctor if you notice a rash, nausea or worsening {sym}.",
    "At {kg} kg, keeping an eye on total calories and exercising moderately three to five times a week "
    "will help keep your {dis} under control.",
    "The tests will probably include a full blood count, liver and kidney function and an ECG, so please "
    "come fasting and allow about half a day.",
    "This is general information and not a substitute for an in-person consultation; your doctor will "
    "make the final diagnosis and treatment plan.",
    "A family history of {dis} does raise your risk, so a check-up every six months is a good idea.",
)
BANK_ZH_HUMAN = (
    "你好，我想咨询一下尾号{tail}的{prod}{req}的事情，需要准备哪些材料？",
    "我的{prod}尾号{tail}，{date}有一笔{amt}元的扣款，我不记得自己消费过。",
    "请问{prod}现在的年利率是多少？我打算存{amt}元，期限{term}个月。",
    "我{date}申请了{req}，申请编号尾号{tail}，到现在还没有结果，能帮我查一下进度吗？",
    "我{date}有空，可以直接在{branch}办理{req}吗？还是必须线上申请？",
    "如果我{date}之前把{amt}元一次性还清，会不会收取违约金？",
    "手机银行登录的时候一直提示验证失败，尾号{tail}的卡我已经试了好几次了。",
    "我{date}要出国一段时间，尾号{tail}的{prod}在国外能正常使用吗？",
    "办理{req}大概需要多长时间？我{date}之前要用到这笔{amt}元。",
)
BANK_ZH_GPT = (
    "您好，办理{prod}{req}需要携带本人有效身份证件和{prod}，部分业务还需要提供近六个月的收入证明。",
    "关于尾号{tail}的这笔{amt}元交易，我们已为您登记争议，工作人员会在三个工作日内与您联系核实。",
    "目前{term}个月期的{prod}年利率为{rate}%，按{amt}元计算，到期利息约为{interest}元，实际以办理时为准。",
    "已为您查询到{req}申请正在审核中，预计{date}前会有结果，届时将以短信方式通知您。",
    "{branch}的营业时间为工作日九点至十七点，您也可以通过手机银行在线提交{req}申请，无需到网点。",
    "提前还款需要提前十五个工作日预约，{amt}元以内的部分还款一般不收取违约金，具体以合同约定为准。",
    "为了您的资金安全，请不要向任何人透露验证码和密码，我行工作人员不会索要这些信息。",
    "如果连续验证失败，账户会被暂时锁定二十四小时，您可以携带身份证到{branch}解锁，或拨打客服热线。",
    "出境前建议您开通境外交易功能，并确认{prod}的有效期，以免在国外无法正常使用。",
    "感谢您的耐心等待，如还有其他问题，欢迎随时联系我们的在线客服。",
)
BANK_EN_HUMAN = (
    "Hello, I'd like to ask about {req} for my {prod} ending in {tail}. What documents do I need to bring?",
    "There's a charge of ${amt} on my {prod} ending in {tail} from {date_en} that I don't recognise.",
    "What is the current annual rate on a {prod}? I'm planning to put in ${amt} for {term} months.",
    "I applied for {req} on {date_en}, reference ending {tail}, and still haven't heard back. "
    "Could you check?",
    "Can I do {req} at the {branch} on {date_en}, or does it have to be online?",
    "If I pay off the full ${amt} before {date_en}, will there be an early repayment fee?",
    "The mobile banking app keeps saying verification failed for my card ending in {tail}. "
    "I've tried several times.",
    "I'm going abroad on {date_en}. Will my {prod} ending in {tail} work overseas?",
    "How long does {req} usually take? I need the ${amt} before {date_en}.",
)
BANK_EN_GPT = (
    "To arrange {req} on your {prod}, please bring a valid photo ID and the card itself; for some services "
    "we also need payslips from the last six months.",
    "We've logged a dispute for the ${amt} transaction on the card ending in {tail}, and a colleague will "
    "contact you within three working days.",
    "A {term}-month {prod} currently pays {rate}% a year, so ${amt} would earn roughly ${interest} in "
    "interest; the rate on the day you open it applies.",
    "Your application for {req} is still under review and should be decided by {date_en}; we'll let you "
    "know by text message.",
    "The {branch} is open 9 am to 5 pm on weekdays, but you can also apply for {req} in the mobile app "
    "without visiting.",
    "Early repayment needs fifteen working days' notice; partial repayments up to ${amt} are normally free "
    "of charge, subject to your contract.",
    "For your security, never share one-time codes or passwords with anyone; our staff will never ask "
    "for them.",
    "After repeated failed attempts the account is locked for 24 hours; you can unlock it at the {branch} "
    "with your ID or by calling our hotline.",
    "Before you travel, switch on overseas transactions and check your {prod}'s expiry date so it keeps "
    "working abroad.",
    "Thank you for your patience. If there's anything else, our online support team is always happy to help.",
)
# Every dialogue opens with one of these: a name and an 8-digit number keep short dialogues from
# colliding by chance, so the only duplicates in the corpus are the planted ones.
INTROS = (
    (
        (
            "您好，我是{name}，就诊卡号{card}。",
            "医生您好，我叫{name}，病历号{card}。",
            "你好，我是患者{name}，卡号{card}。",
        ),
        (
            "您好，我是{name}，客户编号{card}。",
            "你好，我叫{name}，客户号{card}。",
            "您好，我是贵行客户{name}，编号{card}。",
        ),
    ),
    (
        (
            "Hello, this is {name}, patient number {card}.",
            "Hi, my name is {name} and my hospital number is {card}.",
            "Good morning, {name} here, patient ID {card}.",
        ),
        (
            "Hello, this is {name}, customer number {card}.",
            "Hi, I'm {name}, my customer ID is {card}.",
            "Good afternoon, {name} here, customer number {card}.",
        ),
    ),
)
TEMPLATES = (
    ((CLINIC_ZH_HUMAN, CLINIC_ZH_GPT), (BANK_ZH_HUMAN, BANK_ZH_GPT)),
    ((CLINIC_EN_HUMAN, CLINIC_EN_GPT), (BANK_EN_HUMAN, BANK_EN_GPT)),
)
SYSTEM_PROMPTS = (
    (
        (
            "你是一名耐心、专业的门诊导诊助手。请用通俗易懂的语言回答患者的问题，"
            "不做确定性诊断，遇到紧急情况提醒患者立即就医。",
            "你是医院的线上健康咨询助手，回答要准确、简洁，涉及用药时提醒遵医嘱。",
        ),
        (
            "你是银行的智能客服，请礼貌、准确地解答客户关于账户、贷款和银行卡的问题，不得索要密码或验证码。",
            "你是一名银行客户服务代表，回答时注意保护客户隐私，并在必要时建议客户前往网点办理。",
        ),
    ),
    (
        (
            "You are a patient, professional outpatient triage assistant. Answer in plain language, "
            "never give a definitive diagnosis, and tell the patient to seek urgent care when symptoms "
            "are serious.",
            "You are a hospital's online health assistant. Be accurate and brief, and remind patients to "
            "follow their prescription.",
        ),
        (
            "You are a bank's customer service assistant. Answer questions about accounts, loans and cards "
            "politely and accurately, and never ask for passwords or one-time codes.",
            "You are a bank customer service representative. Protect the customer's privacy and suggest "
            "visiting a branch when needed.",
        ),
    ),
)
# Sentences per turn, drawn from these counts by speaker; tuned so the mean record is about 1.5 KB.
SENTENCES = ((1, 2), (2, 3, 3))
JOINER = ("", " ")


@dataclass(slots=True)
class Dialogue:
    """One generated dialogue and what is needed to write a different answer to it later."""

    id: str
    lang: int
    domain: int
    slots: dict[str, str]
    turns: list[dict[str, str]]


def make_slots(rng: random.Random, lang: int) -> dict[str, str]:
    """Pick one dialogue's entities and numbers, so its sentences agree with each other."""
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    amount = rng.randint(2, 3000) * 100
    term = rng.choice((3, 6, 12, 24, 36))
    rate = rng.randint(135, 395) / 100
    return {
        "dis": rng.choice(DISEASES)[lang],
        "drug": rng.choice(DRUGS)[lang],
        "dept": rng.choice(DEPARTMENTS)[lang],
        "sym": rng.choice(SYMPTOMS)[lang],
        "dur": rng.choice(DURATIONS)[lang],
        "prod": rng.choice(PRODUCTS)[lang],
        "req": rng.choice(REQUESTS)[lang],
        "branch": rng.choice(BRANCHES)[lang],
        "name": name(rng, lang),
        "card": f"{rng.randrange(10**8):08d}",
        "date": f"{month}月{day}日",
        "date_en": f"{MONTHS_EN[month - 1]} {day}",
        "bp": f"{rng.randint(118, 175)}/{rng.randint(72, 105)}",
        "kg": str(rng.randint(45, 110)),
        "age": str(rng.randint(18, 85)),
        "temp": f"{rng.randint(365, 389) / 10:.1f}",
        "mg": str(rng.choice((5, 10, 20, 250, 500, 850))),
        "times": str(rng.randint(1, 3)),
        "amt": f"{amount:,}",
        "tail": f"{rng.randint(0, 9999):04d}",
        "term": str(term),
        "rate": f"{rate:.2f}",
        "interest": f"{amount * rate / 100 * term / 12:,.2f}",
    }


def name(rng: random.Random, lang: int) -> str:
    """A person's name in the dialogue's language (family name first in Chinese)."""
    family, given = rng.choice(SURNAMES)[lang], rng.choice(GIVEN_NAMES)[lang]
    return family + given if lang == 0 else f"{given} {family}"


def make_turn(rng: random.Random, lang: int, domain: int, speaker: int, slots: dict[str, str]) -> str:
    """Fill a few distinct templates of one speaker into one turn's text."""
    pool = TEMPLATES[lang][domain][speaker]
    picked = rng.sample(pool, rng.choice(SENTENCES[speaker]))
    return JOINER[lang].join(t.format_map(slots) for t in picked)


def make_dialogue(rng: random.Random, ident: str) -> Dialogue:
    """A clean dialogue: optional system prompt, then 1-4 human/gpt pairs."""
    lang, domain = rng.randrange(2), rng.randrange(2)
    slots = make_slots(rng, lang)
    turns: list[dict[str, str]] = []
    if rng.random() < SYSTEM_RATE:
        turns.append({"from": "system", "value": rng.choice(SYSTEM_PROMPTS[lang][domain])})
    for pair in range(rng.randint(1, 4)):
        question = make_turn(rng, lang, domain, 0, slots)
        if pair == 0:
            question = rng.choice(INTROS[lang][domain]).format_map(slots) + JOINER[lang] + question
        turns.append({"from": "human", "value": question})
        turns.append({"from": "gpt", "value": make_turn(rng, lang, domain, 1, slots)})
    return Dialogue(ident, lang, domain, slots, turns)


def speaker_indexes(turns: list[dict[str, str]], speaker: str) -> list[int]:
    """Positions of one speaker's turns."""
    return [i for i, t in enumerate(turns) if t["from"] == speaker]


def edit_positions(rng: random.Random, turns: list[dict[str, str]], k: int) -> set[tuple[int, int]]:
    """Pick `k` distinct (turn, character) positions in the human turns."""
    humans = [i for i in speaker_indexes(turns, "human") if turns[i]["value"]]
    k = min(k, sum(len(turns[i]["value"]) for i in humans))
    picked: set[tuple[int, int]] = set()
    while len(picked) < k:
        i = rng.choice(humans)
        picked.add((i, rng.randrange(len(turns[i]["value"]))))
    return picked


def near_duplicate(rng: random.Random, original: Dialogue, ident: str) -> Dialogue:
    """Same human turns with 1-2 characters changed, and a different final answer."""
    turns = [dict(t) for t in original.turns]
    # Distinct positions, each replaced by a different character: exactly k characters differ.
    for i, pos in sorted(edit_positions(rng, turns, rng.randint(1, 2))):
        text = turns[i]["value"]
        char = rng.choice(EDIT_CHARS[original.lang].replace(text[pos], ""))
        turns[i]["value"] = text[:pos] + char + text[pos + 1 :]
    answer = turns[-1]["value"]
    while answer == turns[-1]["value"]:
        answer = make_turn(rng, original.lang, original.domain, 1, original.slots)
    turns[-1]["value"] = answer
    return Dialogue(ident, original.lang, original.domain, original.slots, turns)


def plant(rng: random.Random, dialogue: Dialogue, kind: str) -> None:
    """Plant a single-record defect (echo, empty turn, ends on the human) in place."""
    turns = dialogue.turns
    if kind == "ends_with_user":
        turns.pop()
        return
    i = rng.choice(speaker_indexes(turns, "gpt"))
    if kind == "echo":
        turns[i]["value"] = turns[i - 1]["value"]
    elif kind == "empty_turn":
        turns[i]["value"] = rng.choice(("", "  "))


def pick_kind(rng: random.Random) -> str | None:
    """Choose this record's defect, if any, by the fixed rates."""
    u = rng.random()
    for kind, rate in RATES:
        if u < rate:
            return kind
        u -= rate
    return None


def to_line(dialogue: Dialogue) -> str:
    """Serialise one record as a compact JSON line, non-ASCII kept as UTF-8."""
    record = {"id": dialogue.id, "conversations": dialogue.turns}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


class Generator:
    """Yields (line, truth) pairs; the reservoir of clean originals lives here."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.pool: list[Dialogue] = []
        self.clean_seen = 0

    def remember(self, dialogue: Dialogue) -> None:
        """Reservoir-sample clean dialogues as originals for later duplicates."""
        self.clean_seen += 1
        if len(self.pool) < POOL_SIZE:
            self.pool.append(dialogue)
            return
        j = self.rng.randrange(self.clean_seen)
        if j < POOL_SIZE:
            self.pool[j] = dialogue

    def record(self, number: int) -> tuple[str, dict[str, Any] | None]:
        """The JSON line for 1-based line `number`, and its truth entry when it carries a defect."""
        rng = self.rng
        ident = f"syn-{number:07d}"
        kind = pick_kind(rng)
        if kind in ("exact_duplicate", "near_duplicate") and not self.pool:
            kind = None  # nothing earlier to copy yet
        of = None
        if kind == "exact_duplicate":
            original = rng.choice(self.pool)
            of = original.id
            dialogue = Dialogue(ident, original.lang, original.domain, original.slots, original.turns)
        elif kind == "near_duplicate":
            original = rng.choice(self.pool)
            of = original.id
            dialogue = near_duplicate(rng, original, ident)
        else:
            dialogue = make_dialogue(rng, ident)
            if kind in ("echo", "empty_turn", "ends_with_user"):
                plant(rng, dialogue, kind)
        line = to_line(dialogue)
        if kind is None:
            self.remember(dialogue)
            return line, None
        if kind == "broken_line":
            line = line[: rng.randint(len(line) // 4, len(line) * 3 // 4)]
        return line, {"line": number, "id": ident, "kind": kind, "of": of}


def generate(n: int, out: Path, seed: int = 0, truth: Path | None = None) -> dict[str, int]:
    """Write `n` records to `out` (and defects to `truth`); return counts by defect kind and size."""
    gen = Generator(seed)
    counts: dict[str, int] = dict.fromkeys([k for k, _ in RATES], 0)
    truths: list[str] = []
    # Write beside the target and rename, so a half-written corpus is never mistaken for a whole one.
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n", buffering=1 << 20) as stream:
        batch: list[str] = []
        for number in range(1, n + 1):
            line, entry = gen.record(number)
            batch.append(line)
            if entry is not None:
                counts[entry["kind"]] += 1
                truths.append(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
            if len(batch) >= 4096:
                stream.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            stream.write("\n".join(batch) + "\n")
    os.replace(tmp, out)
    if truth is not None:
        truth.write_text("".join(t + "\n" for t in truths), encoding="utf-8")
    counts["bytes"] = out.stat().st_size
    return counts


def main(argv: list[str] | None = None) -> int:
    """Command line: generate the corpus and print its size and defect counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of dialogues (lines)")
    parser.add_argument("out", type=Path, help="output .jsonl path")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--truth", type=Path, default=None, help="write one JSON line per planted defect")
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error("N must be >= 0")
    start = time.perf_counter()
    counts = generate(args.n, args.out, seed=args.seed, truth=args.truth)
    elapsed = time.perf_counter() - start
    size = counts.pop("bytes")
    mean = size / args.n if args.n else 0.0
    print(
        f"wrote {args.n:,} dialogues to {args.out}: {size / 1e6:.1f} MB ({mean:.0f} B/record) "
        f"in {elapsed:.1f} s"
    )
    print("defects: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
