"""Text samples per charset: each sample is encodable in its charset, so a body or an encoded-word
header in that charset carries real non-ASCII text (names, subjects, sentences)."""

from __future__ import annotations

# charset -> (names, subjects, sentences)
SAMPLES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "utf-8": (("Zoë Ørsted", "Łukasz Żółć", "李小龍", "Ἀριστοτέλης Ξ.", "Renée Dvořák"),
              ("Drucker im 2. Stock läuft nicht 🖨", "Ошибка входа в VPN", "請求書の再発行について", "Ça ne marche plus — urgent"),
              ("The printer shows “paper jam” again.", "Der Bildschirm flackert seit dem Update.",
               "Пароль не принимается после смены.", "会議室のプロジェクターが映りません。")),
    "iso-8859-1": (("François Lefèvre", "Jürgen Müller", "Íñigo Ibáñez"),
                   ("Réunion annulée: salle indisponible", "Größere Störung im Netzwerk", "Contraseña olvidada"),
                   ("Le serveur ne répond plus depuis ce matin.", "Bitte prüfen Sie die Zugänge für Günther.",
                    "¿Pueden restablecer mi contraseña?")),
    "windows-1252": (("Chloë O’Brien", "Søren Ærø"),
                     ("“Quoted” subject – with dashes", "Facture n° 42 € impayée"),
                     ("Our invoice shows 42 € instead of 24 €…", "The ‘export’ button does nothing.")),
    "koi8-r": (("Иван Петров", "Наталья Смирнова"),
               ("Не работает почта", "Сломался принтер на третьем этаже"),
               ("Письма не уходят с утра.", "Прошу восстановить доступ к порталу.")),
    "shift_jis": (("山田太郎", "佐藤花子"),
                  ("パスワードの再設定", "ネットワーク障害のお知らせ"),
                  ("ログインできません。至急対応をお願いします。", "プリンターが紙詰まりを起こしています。")),
    "iso-2022-jp": (("鈴木一郎",), ("見積書の件",), ("添付の見積書をご確認ください。",)),
    "iso-8859-15": (("Šárka Žák",), ("Prix en € erroné",), ("Le montant en € est faux sur la facture.",)),
}

# How often each charset is picked for a mail (weights).
CHARSET_WEIGHTS: dict[str, int] = {"utf-8": 50, "iso-8859-1": 12, "windows-1252": 10, "koi8-r": 10,
                                   "shift_jis": 8, "iso-2022-jp": 5, "iso-8859-15": 5}

FILLER = ("Steps to reproduce: open the application, click the button, wait a minute. "
          "Expected: it works. Actual: an error box and nothing saved. ")
