"""Language-Aware Tuning's "PTL" prompts: the Alpaca template, the instruction and the
language names all written in the target language.

Source: github.com/alphadl/LanguageAware_Tuning, commit b69a120a497b,
``evaluate/inference_w_vllm.py`` (``multilingual_PROMPT_DICT[..]["prompt_input"]``,
``Multilingul_instruction``, ``lang_instruction``). The strings are the seed's, byte for
byte, quirks included: the Japanese header starts with a stray "B", the Ukrainian header
has no space between its two sentences, several headers end their first sentence with a
space before the second, and some names are demonyms or adjectives rather than language
names (cs "Němec", ru "украинец", nl "Roemeense", ja "ロシア").

The seed's name tables cover only the languages its experiments paired (the WMT set
de en ja zh ko cs fr uk ru, and the IWSLT set en ro it nl). Names marked ``# mtbench``
below are mtbench's own translations, filling the gaps so that every direction among
en de cs ru zh ja uk fr it nl ro (and ko) can be prompted; they follow the case
convention of the language (lower case in cs, fr, ro, it, uk; capitalised in de, nl,
and as the seed writes the others in ru).

English (``en``) is not here: the English PTL prompt is LAT's standard prompt.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

# Alpaca "prompt_input" template per instruction language ({instruction}, {input}).
TEMPLATES: Mapping[str, str] = MappingProxyType({
    "zh": "下面是描述任务的指令，并与提供进一步上下文的输入配对。 "
          "编写适当完成请求的响应。\n\n"
          "### 指令:\n{instruction}\n\n### 输入:\n{input}\n\n### 回复:",
    "ko": "다음은 추가 컨텍스트를 제공하는 입력과 쌍을 이루는 작업을 설명하는 지침입니다. "
          "요청을 적절하게 완료하는 응답을 작성합니다.\n\n"
          "### 지침:\n{instruction}\n\n### 입력:\n{input}\n\n### 응답:",
    "de": "Nachfolgend finden Sie eine Anweisung, die eine Aufgabe beschreibt, gepaart mit einer Eingabe, "
          "die weiteren Kontext bereitstellt. "
          "Schreiben Sie eine Antwort, die die Anfrage angemessen vervollständigt.\n\n"
          "### Anweisung:\n{instruction}\n\n### Eingang:\n{input}\n\n### Antwort:",
    "cs": "Níže je uvedena instrukce, která popisuje úlohu, spárovaná se vstupem, který poskytuje další kontext. "
          "Napište odpověď, která vhodně dokončí požadavek.\n\n"
          "### Návod:\n{instruction}\n\n### Vstup:\n{input}\n\n### Odezva:",
    "ru": "Ниже приведена инструкция, описывающая задачу в сочетании с входными данными, "
          "предоставляющими дополнительный контекст. "
          "Напишите ответ, который соответствующим образом дополняет запрос.\n\n"
          "### Инструкция:\n{instruction}\n\n### Вход:\n{input}\n\n### Ответ:",
    "uk": "Нижче наведено інструкцію, яка описує завдання в поєднанні з введенням, що надає додатковий контекст."
          "Напишіть відповідь, яка відповідним чином доповнює запит.\n\n"
          "### Інструкція:\n{instruction}\n\n### Введення:\n{input}\n\n### Відповідь:",
    "fr": "Vous trouverez ci-dessous une instruction décrivant une tâche, associée à une entrée fournissant "
          "un contexte supplémentaire. "
          "Écrivez une réponse qui complète de manière appropriée la demande.\n\n"
          "### Instruction:\n{instruction}\n\n### Saisir:\n{input}\n\n### Réponse:",
    "ja": "B以下は、タスクを説明する指示と、さらなるコンテキストを提供する入力との組み合わせです。 "
          "リクエストを適切に完了するレスポンスを作成します。\n\n"
          "### 命令:\n{instruction}\n\n### 入力:\n{input}\n\n### 応答:",
    "ro": "Mai jos este o instrucțiune care descrie o sarcină, asociată cu o intrare care oferă context suplimentar. "
          "Scrieți un răspuns care completează în mod corespunzător solicitarea.\n\n"
          "### Instruire:\n{instruction}\n\n### Intrare:\n{input}\n\n### Raspuns:",
    "it": "Di seguito è riportata un'istruzione che descrive un'attività, abbinata a un input che fornisce "
          "ulteriore contesto. "
          "Scrivi una risposta che completa adeguatamente la richiesta.\n\n"
          "### Istruzioni:\n{instruction}\n\n### Ingresso:\n{input}\n\n### Risposta:",
    "nl": "Hieronder vindt u een instructie die een taak beschrijft, gecombineerd met invoer die verdere "
          "context biedt. "
          "Schrijf een antwoord dat het verzoek op passende wijze voltooit.\n\n"
          "### Instructie:\n{instruction}\n\n### Invoer:\n{input}\n\n### Antwoord:",
})

# The translation instruction per instruction language ({src}, {tgt} stand for the
# seed's [SRC], [TGT]).
INSTRUCTIONS: Mapping[str, str] = MappingProxyType({
    "zh": "将以下句子从 {src} 翻译为 {tgt}。",
    "ko": "다음 문장을 {src}에서 {tgt}로 번역하세요.",
    "de": "Übersetzen Sie die folgenden Sätze von {src} in {tgt}.",
    "cs": "Přeložte následující věty z {src} do {tgt}.",
    "ru": "Переведите следующие предложения с {src} на {tgt}.",
    "uk": "Перекладіть наступні речення з {src} на {tgt}.",
    "fr": "Traduisez les phrases suivantes de {src} en {tgt}.",
    "ja": "次の文を {src} から {tgt} に翻訳してください。",
    "ro": "Traduceți următoarele propoziții din {src} în {tgt}.",
    "it": "Traduci le seguenti frasi da {src} a {tgt}.",
    "nl": "Vertaal de volgende zinnen van {src} naar {tgt}.",
})

# Language names as each instruction language writes them.
NAMES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "de": MappingProxyType({
        "de": "Deutsch", "en": "Englisch", "ja": "Japanisch", "zh": "Chinesisch", "ko": "Koreanisch",
        "cs": "Tschechisch", "fr": "Französisch", "uk": "ukrainisch", "ru": "Russisch",
        "it": "Italienisch",  # mtbench
        "nl": "Niederländisch",  # mtbench
        "ro": "Rumänisch",  # mtbench
    }),
    "ja": MappingProxyType({
        "de": "ドイツ語", "en": "英語", "ja": "日本語", "zh": "中国語", "ko": "韓国語", "cs": "チェコ語",
        "fr": "フランス語", "uk": "ウクライナ語", "ru": "ロシア",
        "it": "イタリア語",  # mtbench
        "nl": "オランダ語",  # mtbench
        "ro": "ルーマニア語",  # mtbench
    }),
    "zh": MappingProxyType({
        "de": "德语", "en": "英语", "ja": "日语", "zh": "中文", "ko": "韩语", "cs": "捷克语", "fr": "法语",
        "uk": "乌克兰语", "ru": "俄语",
        "it": "意大利语",  # mtbench
        "nl": "荷兰语",  # mtbench
        "ro": "罗马尼亚语",  # mtbench
    }),
    "ko": MappingProxyType({
        "de": "독일 사람", "en": "영어", "ko": "한국인", "zh": "중국인", "ja": "일본어", "cs": "체코 사람",
        "fr": "프랑스 국민", "uk": "우크라이나 인", "ru": "러시아인",
        "it": "이탈리아어",  # mtbench
        "nl": "네덜란드어",  # mtbench
        "ro": "루마니아어",  # mtbench
    }),
    "cs": MappingProxyType({
        "de": "Němec", "en": "Angličtina", "ko": "korejština", "zh": "čínština", "ja": "japonský",
        "cs": "čeština", "fr": "francouzština", "uk": "ukrajinština", "ru": "ruština",
        "it": "italština",  # mtbench
        "nl": "nizozemština",  # mtbench
        "ro": "rumunština",  # mtbench
    }),
    "fr": MappingProxyType({
        "de": "Allemand", "en": "Anglais", "ko": "coréen", "zh": "Chinois", "ja": "Japonais", "cs": "tchèque",
        "fr": "Français", "uk": "ukrainien", "ru": "russe",
        "it": "italien",  # mtbench
        "nl": "néerlandais",  # mtbench
        "ro": "roumain",  # mtbench
    }),
    "uk": MappingProxyType({
        "de": "Німецький", "en": "англійська", "ko": "корейська", "zh": "китайський", "ja": "Японський",
        "cs": "чеська", "fr": "французька", "uk": "українська", "ru": "російський",
        "it": "італійська",  # mtbench
        "nl": "нідерландська",  # mtbench
        "ro": "румунська",  # mtbench
    }),
    "ru": MappingProxyType({
        "de": "Немецкий", "en": "Английский", "ko": "Корейский", "zh": "Китайский", "ja": "Японский",
        "cs": "Чешский", "fr": "Французский", "uk": "украинец", "ru": "Русский",
        "it": "Итальянский",  # mtbench
        "nl": "Нидерландский",  # mtbench
        "ro": "Румынский",  # mtbench
    }),
    "ro": MappingProxyType({
        "en": "Engleză", "ro": "Română", "it": "Italiană", "nl": "olandeză",
        "de": "germană",  # mtbench
        "cs": "cehă",  # mtbench
        "ru": "rusă",  # mtbench
        "zh": "chineză",  # mtbench
        "ja": "japoneză",  # mtbench
        "uk": "ucraineană",  # mtbench
        "fr": "franceză",  # mtbench
        "ko": "coreeană",  # mtbench
    }),
    "it": MappingProxyType({
        "en": "Inglese", "ro": "rumeno", "it": "Italiano", "nl": "Olandese",
        "de": "tedesco",  # mtbench
        "cs": "ceco",  # mtbench
        "ru": "russo",  # mtbench
        "zh": "cinese",  # mtbench
        "ja": "giapponese",  # mtbench
        "uk": "ucraino",  # mtbench
        "fr": "francese",  # mtbench
        "ko": "coreano",  # mtbench
    }),
    "nl": MappingProxyType({
        "en": "Engels", "ro": "Roemeense", "it": "Italiaans", "nl": "Nederlands",
        "de": "Duits",  # mtbench
        "cs": "Tsjechisch",  # mtbench
        "ru": "Russisch",  # mtbench
        "zh": "Chinees",  # mtbench
        "ja": "Japans",  # mtbench
        "uk": "Oekraïens",  # mtbench
        "fr": "Frans",  # mtbench
        "ko": "Koreaans",  # mtbench
    }),
})
