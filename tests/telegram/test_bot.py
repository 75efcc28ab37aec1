"""The bot against the fake Bot API server, through python-telegram-bot's real HTTP stack, with the fake generator."""

import asyncio
import re

from tests.fake_telegram import BOT, RunningBot, document, message, until
from tests.telegram.world import ADMIN, ALICE, BOB, GROUP, MALLORY, OTHER_GROUP, QUESTION, finals, make_settings


async def test_private_question_streams_drafts_then_one_html_message_with_sources(bot, tg, fake_generator):
    fake_generator.enqueue("Plus de 10 milliards de dollars [1] <b>*vraiment*</b> & _plus_.")
    fake_generator.delay_s = 0.02
    tg.push(message(ALICE, ALICE, QUESTION))
    await until(lambda: finals(tg, ALICE), what="the answer")
    (final,) = finals(tg, ALICE)
    text = final["text"]
    assert text.startswith("Plus de 10 milliards de dollars [1] &lt;b&gt;*vraiment*&lt;/b&gt; &amp; _plus_.")
    assert "<b>Sources</b>" in text and "[1] <b>" in text and "“" in text
    assert final["link_preview_options"] == {"is_disabled": True}
    drafts = tg.of("sendMessageDraft", ALICE)
    assert drafts and all(d.params["draft_id"] == drafts[0].params["draft_id"] != 0 for d in drafts)
    assert tg.of("sendChatAction", ALICE)[0].params["action"] == "typing"
    assert not tg.of("editMessageText", ALICE)  # private chats stream by drafts, not edits
    assert {c.params.get("command") for c in tg.of("setMyCommands")} == {None}
    assert [c["command"] for c in tg.of("setMyCommands")[0].params["commands"]] == ["start", "help", "reset", "sources", "cancel", "latest", "digest"]


async def test_follow_up_uses_the_stored_conversation_and_reset_forgets_it(bot, tg, fake_generator):
    tg.push(message(ALICE, ALICE, QUESTION))
    await until(lambda: len(finals(tg, ALICE)) == 1)
    tg.push(message(ALICE, ALICE, "Et pourquoi ?"))
    await until(lambda: len(finals(tg, ALICE)) == 2)
    roles = [m["role"] for m in fake_generator.history[-1]]
    assert roles == ["system", "user", "assistant", "user"] and fake_generator.history[-1][1]["content"] == QUESTION
    assert bot.services.history.recent(ALICE)[0].question == QUESTION  # stored in SQLite: a restart keeps it
    tg.push(message(ALICE, ALICE, "/reset"))
    await until(lambda: any("forgotten" in t for t in tg.texts(ALICE)))
    assert bot.services.history.recent(ALICE) == []


async def test_commands_start_help_sources(bot, tg, fake_index):
    tg.push(message(ALICE, ALICE, "/sources"))
    await until(lambda: tg.texts(ALICE))
    assert "No sources yet" in tg.texts(ALICE)[0]
    tg.push(message(ALICE, ALICE, "/start"))
    await until(lambda: len(tg.texts(ALICE)) == 2)
    docs, chunks = fake_index.catalog.counts()
    assert f"{docs} news article" in tg.texts(ALICE)[1] and f"{chunks} passages" in tg.texts(ALICE)[1]
    tg.push(message(ALICE, ALICE, "/help"))
    await until(lambda: len(tg.texts(ALICE)) == 3)
    assert all(f"/{c}" in tg.texts(ALICE)[2] for c in ("start", "help", "reset", "sources", "cancel"))
    tg.push(message(ALICE, ALICE, QUESTION))
    await until(lambda: finals(tg, ALICE))
    tg.push(message(ALICE, ALICE, "/sources"))
    await until(lambda: len(finals(tg, ALICE)) == 2)
    assert finals(tg, ALICE)[1]["text"].startswith("<b>Sources</b>\n\n[1] <b>")


async def test_unknown_user_gets_their_id_once_and_the_model_is_never_called(bot, tg, fake_generator):
    tg.push(message(MALLORY, MALLORY, QUESTION))
    tg.push(message(MALLORY, MALLORY, "/start"))
    tg.push(message(ALICE, ALICE, "/help"))  # processed after Mallory's two: a marker that they were handled
    await until(lambda: tg.texts(ALICE))
    await until(lambda: tg.texts(MALLORY))
    await asyncio.sleep(0.1)
    assert tg.texts(MALLORY) == [f"Sorry, this bot is private. Your Telegram id is {MALLORY}: ask the owner to add it."]
    assert fake_generator.history == [] and not tg.of("sendMessageDraft", MALLORY)


async def test_groups_allowed_chat_only_and_only_when_addressed(bot, tg, fake_generator):
    tg.push(message(GROUP, BOB, QUESTION))  # not addressed: ignored
    tg.push(message(OTHER_GROUP, BOB, f"@{BOT['username']} {QUESTION}"))  # a group not allowed: told its id once
    tg.push(message(GROUP, MALLORY, f"@{BOT['username']} {QUESTION}"))  # any member of an allowed group may ask
    await until(lambda: finals(tg, GROUP), what="the group answer")
    await until(lambda: tg.texts(OTHER_GROUP))
    assert f"This group's id is {OTHER_GROUP}" in tg.texts(OTHER_GROUP)[0]
    assert len(fake_generator.history) == 1 and fake_generator.history[0][-1]["content"].endswith(QUESTION)
    bot_msg = {"message_id": 5, "date": 0, "chat": {"id": GROUP, "type": "supergroup"}, "from": BOT, "text": "earlier"}
    tg.push(message(GROUP, BOB, "Et pourquoi ?", reply_to=bot_msg))  # a reply to the bot is addressed to it
    await until(lambda: len(finals(tg, GROUP)) == 2)
    tg.push(message(GROUP, BOB, f"/start@{BOT['username']}"))
    tg.push(message(GROUP, BOB, "/start@some_other_bot"))
    await until(lambda: any("articles" in t for t in tg.texts(GROUP)))
    await asyncio.sleep(0.1)
    assert sum("news article" in t for t in tg.texts(GROUP)) == 1
    assert "Mention me" in [t for t in tg.texts(GROUP) if "news article" in t][0]


async def test_group_streams_by_throttled_edits_of_one_message(bot, tg, fake_generator):
    fake_generator.enqueue(" ".join(f"mot{i}" for i in range(60)) + " [1].")
    fake_generator.delay_s = 0.01
    tg.push(message(GROUP, BOB, f"@{BOT['username']} {QUESTION}"))
    await until(lambda: finals(tg, GROUP))
    sent = tg.of("sendMessage", GROUP)
    edits = tg.of("editMessageText", GROUP)
    assert len(sent) == 1 and edits and edits[-1].params["parse_mode"] == "HTML"
    assert {e.params["message_id"] for e in edits} == {sent[0].params.get("message_id") or edits[0].params["message_id"]}
    times = [c.at for c in sent + edits]
    assert all(b - a >= 0.19 for a, b in zip(times, times[1:]))  # never more than one update per group interval
    assert not tg.of("sendMessageDraft")


async def test_flood_control_mid_answer_is_waited_out_and_the_answer_arrives(bot, tg, fake_generator):
    fake_generator.enqueue("Meta investit dans Scale AI [1].")
    tg.fail("sendMessage", 429, retry_after=1, when=lambda p: p.get("parse_mode") == "HTML")
    tg.push(message(ALICE, ALICE, QUESTION))
    await until(lambda: finals(tg, ALICE))
    refused = [c for c in tg.calls if c.method == "sendMessage" and c.status == 429]
    (final,) = finals(tg, ALICE)
    assert len(refused) == 1 and final["text"] == refused[0].params["text"]
    assert final["text"].startswith("Meta investit dans Scale AI [1].")


async def test_network_errors_are_retried(bot, tg):
    tg.fail("sendMessage", 500, when=lambda p: p.get("parse_mode") == "HTML")
    tg.push(message(ALICE, ALICE, QUESTION))
    await until(lambda: finals(tg, ALICE))
    assert len([c for c in tg.calls if c.method == "sendMessage" and c.status == 500]) == 1


async def test_admin_upload_is_ingested_and_others_are_refused_without_download(bot, tg, fake_index):
    body = "Title: Le port de Marseille s'agrandit\n\nLe port de Marseille ouvre un nouveau quai pour les ferries en 2026.".encode()
    tg.files["F1"] = body
    docs_before = fake_index.catalog.counts()[0]
    tg.push(message(MALLORY, MALLORY, document=document("F0", "evil.txt", 10)))
    tg.push(message(ALICE, ALICE, document=document("F0", "evil.txt", 10)))
    tg.push(message(ADMIN, ADMIN, document=document("F1", "marseille.txt", len(body))))
    await until(lambda: tg.texts(ADMIN), what="the upload report")
    assert tg.texts(ADMIN)[0].startswith("Added “") and "new passage" in tg.texts(ADMIN)[0]
    await until(lambda: tg.texts(ALICE))
    assert "Only the bot's admins can add articles" in tg.texts(ALICE)[0]
    assert [c.params["file_id"] for c in tg.calls if c.method in ("getFile", "download")] == ["F1", "F1"]
    assert fake_index.catalog.counts()[0] == docs_before + 1


async def test_admin_upload_refuses_wrong_type_and_size_without_download(bot, tg):
    tg.push(message(ADMIN, ADMIN, document=document("F2", "notes.pdf", 10)))
    tg.push(message(ADMIN, ADMIN, document=document("F3", "huge.txt", 50_000_000)))
    await until(lambda: len(tg.texts(ADMIN)) == 2)
    assert any(".pdf" in t for t in tg.texts(ADMIN)) and any("limit" in t for t in tg.texts(ADMIN))
    assert not tg.of("getFile")


async def test_edited_messages_channel_posts_and_failures_do_not_crash(bot, tg, fake_generator):
    edited = message(ALICE, ALICE, QUESTION)["message"]
    tg.push({"edited_message": edited})
    tg.push({"channel_post": {"message_id": 1, "date": 0, "chat": {"id": -100777, "type": "channel"}, "text": "news"}})
    fake_generator.fail_with = RuntimeError("boom")
    tg.push(message(ALICE, ALICE, QUESTION))
    await until(lambda: tg.texts(ALICE))
    assert tg.texts(ALICE)[-1] == "I could not write an answer just now; please try again in a minute."  # no raw error text
    fake_generator.fail_with = None
    tg.push(message(ALICE, ALICE, QUESTION))
    await until(lambda: finals(tg, ALICE))
    assert len(fake_generator.history) == 2


async def test_health_endpoint_reports_the_bot_and_its_index(tmp_path, tg, answerer, fake_index):
    import json
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with RunningBot(make_settings(tmp_path, tg, health_port=port), answerer, fake_index) as running:
        async def get(path):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            raw = await reader.read()
            writer.close()
            head, _, body = raw.partition(b"\r\n\r\n")
            return head.split(b" ")[1], body

        status, body = await get("/healthz")
        assert status == b"200" and json.loads(body) == {"status": "ok", "articles": 3, "passages": fake_index.catalog.counts()[1], "questions_waiting": 0}
        assert (await get("/nope"))[0] == b"404"
        running.services.stopping = True
        assert (await get("/healthz"))[0] == b"503"


async def test_webhook_mode_receives_updates_with_the_secret_and_refuses_them_without(tmp_path, tg, answerer, fake_index):
    import json
    import socket

    from bot.telegram.app import build_application, build_services, webhook_args

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = make_settings(tmp_path, tg, webhook_url=f"http://127.0.0.1:{port}/newsbot/hook", webhook_port=port)
    app = build_application(settings, build_services(settings, answerer, fake_index.catalog, fake_index.indexer))
    args = {k: v for k, v in webhook_args(settings).items() if k != "stop_signals"}  # run_webhook's own argument
    assert args["url_path"] == "newsbot/hook" and len(args["secret_token"]) >= 32
    await app.initialize()
    await app.post_init(app)
    await app.updater.start_webhook(**args)
    await app.start()
    try:
        set_hook = tg.of("setWebhook")[-1].params
        assert set_hook["url"] == settings.webhook_url and set_hook["secret_token"] == args["secret_token"]

        async def post(secret):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            body = json.dumps({"update_id": 1, "message": message(ALICE, ALICE, "/help")["message"]}).encode()
            headers = f"POST /newsbot/hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            if secret:
                headers += f"X-Telegram-Bot-Api-Secret-Token: {secret}\r\n"
            writer.write(headers.encode() + b"Connection: close\r\n\r\n" + body)
            status = (await reader.readline()).split()[1]
            writer.close()
            return status

        assert await post("wrong-secret") == b"403"
        assert await post(args["secret_token"]) == b"200"
        await until(lambda: tg.texts(ALICE), what="the /help reply")
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)


async def test_the_stream_shows_the_model_and_the_final_message_the_checked_answer(bot, tg, fake_generator):
    fake_generator.enqueue("Meta va investir 12 milliards de dollars [1]. Scale AI a été fondée en 2016 par Alexandr Wang [1][2][3].")
    fake_generator.delay_s = 0.02
    tg.push(message(ALICE, ALICE, QUESTION))
    await until(lambda: finals(tg, ALICE), what="the answer")
    drafts = " ".join(d.params["text"] for d in tg.of("sendMessageDraft", ALICE))
    assert "12 milliards" in drafts  # tokens streamed as the model wrote them
    (final,) = finals(tg, ALICE)
    answer, sources = final["text"].split("<b>Sources</b>")
    said, evidence = answer.split("D’après les articles")  # the passages' sentences that answer follow the model's
    assert "12 milliards" not in said and "fondée en 2016 par Alexandr Wang" in said
    cited = [int(n) for n in re.findall(r"\[(\d)\]", said)]
    assert len(cited) == 1  # only the passage that holds 2016 and Alexandr Wang stays cited
    assert "plus de 10 milliards de dollars" in evidence  # the amount the model got wrong, quoted from its passage
    shown = set(cited) | {int(n) for n in re.findall(r"\[(\d)\]", evidence)}
    assert f"[{cited[0]}] <b>" in sources and sources.count("] <b>") == len(shown)
    assert "Fondée en 2016 par Alexandr Wang" in sources  # the quote is the supporting sentence
