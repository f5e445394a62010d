"""OpenAI's pass-through routes (audio, moderations, files, batches, assistants, threads) through the
official `openai` SDK: what reaches a fake upstream speaking OpenAI's wire format, what comes back,
who may see which id, and what each call costs."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import openai
import orjson
import pytest
import requests
from openai import OpenAI

from anygate.store.tables import UsageRecord
from tests.fakes.openai_objects_upstream import (
    BATCH_USAGE,
    RUN_USAGE,
    SPEECH,
    TRANSCRIBE_TOKENS,
    UPSTREAM_KEY,
    FakeOpenAIObjects,
)
from tests.fakes.server_thread import ServerThread
from tests.gateway_process import GatewayProcess
from tests.integration.usage import key_records

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks Assistants and translations deprecated
ADMIN = "admin-passthrough"
BETA = {"OpenAI-Beta": "assistants=v2"}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAIObjects]:
    fake = FakeOpenAIObjects()
    server = ServerThread(fake.app).start()
    fake.url = server.url  # type: ignore[attr-defined]
    yield fake
    server.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAIObjects
) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("passthrough")
    database = f"sqlite:///{workdir}/anygate.db" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    base = f"{fake.url}/v1"  # type: ignore[attr-defined]
    config: dict[str, Any] = {
        "database": database,
        "admin_key": ADMIN,
        "providers": {  # in this order: the first one is never chosen for calls that name no model
            "a-skipped": {"type": "openai", "base_url": base, "api_key": "sk-wrong", "passthrough": False},
            "b-upstream": {"type": "openai", "base_url": base, "api_key": UPSTREAM_KEY},
            "c-mock": {"type": "mock"},
        },
        "models": {
            "speech-pub": [{"provider": "b-upstream", "model": "tts-1", "character_price": 15.0}],
            "speech-fail": [{"provider": "b-upstream", "model": "up-fail"}],
            "whisper-pub": [{"provider": "b-upstream", "model": "whisper-1", "minute_price": 0.006}],
            "transcribe-pub": [
                {"provider": "b-upstream", "model": "gpt-4o-transcribe", "input_price": 2.5, "output_price": 10.0}
            ],
            "moderation-pub": [{"provider": "b-upstream", "model": "omni-moderation-latest"}],
            "gpt-pub": [{"provider": "b-upstream", "model": "up-gpt", "input_price": 1.0, "output_price": 2.0}],
            "mock-chat": [{"provider": "c-mock", "model": "mock-chat"}],
        },
    }
    process = GatewayProcess(workdir, config).start()
    yield process
    process.stop()


def _client(gateway: GatewayProcess, *options: str) -> tuple[OpenAI, str]:
    key = gateway.create_key(*options)
    return OpenAI(base_url=gateway.url + "/openai/v1", api_key=key["key"], max_retries=0, timeout=20), key["id"]


COST = (
    UsageRecord.family,
    UsageRecord.public_model,
    UsageRecord.upstream_model,
    UsageRecord.input_tokens,
    UsageRecord.output_tokens,
    UsageRecord.cost_usd,
    UsageRecord.status,
)


def test_speech_streams_the_upstream_audio_and_is_billed_by_characters(gateway: GatewayProcess, fake: FakeOpenAIObjects) -> None:
    client, key_id = _client(gateway)
    text = "Twenty-eight characters, ok."
    with client.audio.speech.with_streaming_response.create(model="speech-pub", voice="alloy", input=text) as answer:
        assert answer.headers["content-type"] == "audio/mpeg"
        audio = b"".join(answer.iter_bytes())
    assert audio == b"".join(SPEECH)
    assert fake.requests[-1]["body"] == {"model": "tts-1", "voice": "alloy", "input": text}
    assert fake.requests[-1]["path"] == "/v1/audio/speech"
    with pytest.raises(openai.BadRequestError, match="Invalid value for 'voice'"):
        client.audio.speech.create(model="speech-fail", voice="alloy", input="x")
    rows = key_records(gateway, key_id, 2, *COST)
    assert rows[0][:3] == ("openai-audio", "speech-pub", "tts-1") and rows[0][6] == 200
    assert rows[0][5] == pytest.approx(len(text) * 15.0 / 1_000_000)
    assert rows[1][5] == 0 and rows[1][6] == 400


def test_a_transcription_streams_the_file_on_and_is_billed_by_the_minute(
    gateway: GatewayProcess, fake: FakeOpenAIObjects
) -> None:
    client, key_id = _client(gateway)
    audio = bytes(range(256)) * 3000  # 768 KB
    result = client.audio.transcriptions.create(
        model="whisper-pub", file=("talk.mp3", io.BytesIO(audio), "audio/mpeg"), language="en"
    )
    assert result.text == "Hello there. This is the fake upstream."
    seen = fake.requests[-1]
    assert seen["path"] == "/v1/audio/transcriptions"
    assert seen["files"]["file"] == ("talk.mp3", "audio/mpeg", audio)
    assert dict(seen["fields"]) == {"model": "whisper-1", "language": "en"}
    assert seen["headers"].get("Transfer-Encoding") == "chunked"  # streamed as it came, not read whole first
    rows = key_records(gateway, key_id, 1, *COST)
    assert rows == [("openai-audio", "whisper-pub", "whisper-1", 0, 0, pytest.approx(43 / 60 * 0.006), 200)]


def test_subtitles_are_made_from_verbose_json_so_the_minutes_are_known(gateway: GatewayProcess, fake: FakeOpenAIObjects) -> None:
    client, key_id = _client(gateway)
    srt = client.audio.translations.create(model="whisper-pub", file=("a.wav", b"RIFF....", "audio/wav"), response_format="srt")
    assert dict(fake.requests[-1]["fields"])["response_format"] == "verbose_json"
    assert (
        srt
        == "1\n00:00:00,000 --> 00:00:02,500\nHello there.\n\n2\n00:00:02,500 --> 00:00:42,500\nThis is the fake upstream.\n\n"
    )
    vtt = client.audio.transcriptions.create(model="whisper-pub", file=("a.wav", b"RIFF....", "audio/wav"), response_format="vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello there.\n")
    rows = key_records(gateway, key_id, 2, UsageRecord.cost_usd)
    assert [r[0] for r in rows] == [pytest.approx(43 / 60 * 0.006)] * 2  # usage.seconds, the duration rounded up


def test_a_token_priced_transcription_asked_as_text_is_billed_by_its_tokens(
    gateway: GatewayProcess, fake: FakeOpenAIObjects
) -> None:
    client, key_id = _client(gateway)
    text = client.audio.transcriptions.create(
        model="transcribe-pub", file=("a.wav", b"RIFF....", "audio/wav"), response_format="text"
    )
    assert text == "Hello there. This is the fake upstream.\n"
    assert dict(fake.requests[-1]["fields"]) == {"model": "gpt-4o-transcribe", "response_format": "json"}
    rows = key_records(gateway, key_id, 1, *COST)
    cost = (TRANSCRIBE_TOKENS["input_tokens"] * 2.5 + TRANSCRIBE_TOKENS["output_tokens"] * 10.0) / 1_000_000
    assert rows == [("openai-audio", "transcribe-pub", "gpt-4o-transcribe", 120, 30, pytest.approx(cost), 200)]


def test_a_form_whose_file_comes_before_its_model_is_spooled_then_sent(gateway: GatewayProcess, fake: FakeOpenAIObjects) -> None:
    key = gateway.create_key()["key"]
    audio = b"\x01\x02" * 50_000
    files = [("file", ("late.wav", audio, "audio/wav")), ("model", (None, "whisper-pub")), ("response_format", (None, "json"))]
    answer = requests.post(
        gateway.url + "/openai/v1/audio/transcriptions", files=files, headers={"Authorization": f"Bearer {key}"}, timeout=20
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["text"] == "Hello there. This is the fake upstream."
    seen = fake.requests[-1]
    assert seen["files"]["file"] == ("late.wav", "audio/wav", audio)
    assert dict(seen["fields"]) == {"model": "whisper-1", "response_format": "json"}


def test_uploads_over_the_limit_or_without_a_file_are_refused_in_openais_shape(
    gateway: GatewayProcess, fake: FakeOpenAIObjects
) -> None:
    key = gateway.create_key()["key"]
    auth = {"Authorization": f"Bearer {key}"}
    seen = len(fake.requests)
    big = requests.post(
        gateway.url + "/openai/v1/audio/transcriptions",
        files=[("model", (None, "whisper-pub")), ("file", ("big.wav", b"\0" * (26 * 1024 * 1024), "audio/wav"))],
        headers=auth,
        timeout=60,
    )
    assert big.status_code == 413 and "larger than this route takes (25 MB)" in big.json()["error"]["message"]

    def chunked() -> Iterator[bytes]:  # no Content-Length: the limit is found while streaming on
        yield b'--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-pub\r\n'
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n'
        for _ in range(27):
            yield b"\0" * (1024 * 1024)
        yield b"\r\n--b--\r\n"

    streamed = requests.post(
        gateway.url + "/openai/v1/audio/transcriptions",
        data=chunked(),
        headers={**auth, "Content-Type": "multipart/form-data; boundary=b"},
        timeout=60,
    )
    assert streamed.status_code == 413 and streamed.json()["error"]["type"] == "invalid_request_error"
    no_file = requests.post(
        gateway.url + "/openai/v1/audio/transcriptions", files=[("model", (None, "whisper-pub"))], headers=auth, timeout=20
    )
    assert no_file.status_code == 400 and no_file.json()["error"]["message"] == "The form has no 'file' file"
    as_json = requests.post(
        gateway.url + "/openai/v1/audio/transcriptions", json={"model": "whisper-pub"}, headers=auth, timeout=20
    )
    assert as_json.status_code == 400 and "multipart/form-data" in as_json.json()["error"]["message"]
    assert all(r["path"] != "/v1/audio/transcriptions" or r["files"]["file"][0] != "big.wav" for r in fake.requests[seen:])


def test_moderations_without_a_model_go_to_the_first_provider_that_passes_through(
    gateway: GatewayProcess, fake: FakeOpenAIObjects
) -> None:
    client, _ = _client(gateway)
    result = client.moderations.create(input=["I will kill it", "a nice day"])
    assert [r.flagged for r in result.results] == [True, False]
    seen = fake.requests[-1]  # a-skipped (passthrough: false, and a wrong key) was passed over
    assert seen["body"] == {"input": ["I will kill it", "a nice day"]}
    assert seen["headers"]["Authorization"] == f"Bearer {UPSTREAM_KEY}"
    named = client.moderations.create(model="moderation-pub", input="hello")
    assert named.model == "moderation-pub" and fake.requests[-1]["body"] == {"model": "omni-moderation-latest", "input": "hello"}
    with pytest.raises(openai.NotFoundError, match="The model 'nope' does not exist"):
        client.moderations.create(model="nope", input="x")


def test_files_belong_to_the_key_that_uploaded_them(gateway: GatewayProcess, fake: FakeOpenAIObjects) -> None:
    owner, _ = _client(gateway)
    other, _ = _client(gateway)
    data = b"some notes\n" * 1000
    uploaded = owner.files.create(file=("notes.txt", data, "text/plain"), purpose="assistants")
    assert uploaded.bytes == len(data) and uploaded.filename == "notes.txt" and uploaded.purpose == "assistants"
    assert fake.contents[uploaded.id] == data
    theirs = other.files.create(file=("theirs.txt", b"x", "text/plain"), purpose="assistants")
    assert uploaded.id in [f.id for f in owner.files.list()]
    assert [f.id for f in other.files.list()] == [theirs.id]
    assert owner.files.retrieve(uploaded.id).bytes == len(data)
    assert owner.files.content(uploaded.id).read() == data
    for attempt in (other.files.retrieve, other.files.content, other.files.delete):
        with pytest.raises(openai.NotFoundError, match=f"No such File object: {uploaded.id}"):
            attempt(uploaded.id)
    assert uploaded.id in fake.files  # the other key's delete never reached the upstream
    assert owner.files.delete(uploaded.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        owner.files.retrieve(uploaded.id)


def test_a_file_list_pages_through_the_upstream_for_the_keys_own_files(gateway: GatewayProcess) -> None:
    owner, _ = _client(gateway)
    other, _ = _client(gateway)
    mine = [owner.files.create(file=(f"{i}.txt", b"x", "text/plain"), purpose="assistants").id for i in range(3)]
    for i in range(4):  # the other key's files come between, newest first
        other.files.create(file=(f"o{i}.txt", b"y", "text/plain"), purpose="assistants")
    first = owner.files.list(limit=2)
    assert [f.id for f in first.data] == [mine[2], mine[1]] and first.has_more
    rest = owner.files.list(limit=2, after=mine[1])
    assert [f.id for f in rest.data] == [mine[0]]


def test_batch_files_name_public_models_the_key_may_use(gateway: GatewayProcess, fake: FakeOpenAIObjects) -> None:
    client, _ = _client(gateway, "--models", "gpt-pub")
    lines = [{"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions",
              "body": {"model": "gpt-pub", "messages": [{"role": "user", "content": f"hi {i}"}]}} for i in range(3)]  # fmt: skip
    data = b"\n".join(orjson.dumps(line) for line in lines) + b"\n"
    uploaded = client.files.create(file=("in.jsonl", data, "application/jsonl"), purpose="batch")
    sent = [orjson.loads(line) for line in fake.contents[uploaded.id].splitlines()]
    assert [line["body"]["model"] for line in sent] == ["up-gpt"] * 3
    assert [line["custom_id"] for line in sent] == ["r0", "r1", "r2"]
    count = len(fake.files)
    forbidden = data + orjson.dumps({**lines[0], "body": {**lines[0]["body"], "model": "moderation-pub"}}) + b"\n"
    with pytest.raises(openai.PermissionDeniedError, match="may not use the model 'moderation-pub'"):
        client.files.create(file=("in.jsonl", forbidden, "application/jsonl"), purpose="batch")
    with pytest.raises(openai.BadRequestError, match="Line 2 of the batch file is not JSON"):
        client.files.create(file=("in.jsonl", data.splitlines()[0] + b"\n{oops\n", "application/jsonl"), purpose="batch")
    assert len(fake.files) == count  # neither upload was stored upstream


def test_batches_are_the_keys_and_their_tokens_are_billed_once(gateway: GatewayProcess, fake: FakeOpenAIObjects) -> None:
    client, key_id = _client(gateway)
    other, _ = _client(gateway)
    line = {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-pub", "messages": []}}
    source = client.files.create(file=("in.jsonl", orjson.dumps(line) + b"\n", "application/jsonl"), purpose="batch")
    with pytest.raises(openai.NotFoundError):
        other.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h")
    unchecked = client.files.create(
        file=("in.jsonl", orjson.dumps({**line, "body": {"model": "any-upstream-id"}}), "application/jsonl"), purpose="assistants"
    )
    with pytest.raises(openai.BadRequestError, match="was not uploaded with purpose 'batch'"):
        client.batches.create(input_file_id=unchecked.id, endpoint="/v1/chat/completions", completion_window="24h")
    batch = client.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert batch.status == "validating" and fake.requests[-1]["body"]["input_file_id"] == source.id
    assert [b.id for b in client.batches.list()] == [batch.id] and other.batches.list().data == []
    with pytest.raises(openai.NotFoundError):
        other.batches.retrieve(batch.id)
    done = client.batches.retrieve(batch.id)
    assert done.status == "completed" and done.output_file_id
    assert client.batches.retrieve(batch.id).status == "completed"  # seen finished twice, billed once
    assert client.files.content(done.output_file_id).read().startswith(b'{"custom_id":"a"')  # its output is the key's
    with pytest.raises(openai.NotFoundError):
        other.files.content(done.output_file_id)
    assert client.batches.cancel(batch.id).status == "cancelling"
    rows = key_records(
        gateway, key_id, 9, UsageRecord.family, UsageRecord.input_tokens, UsageRecord.output_tokens, UsageRecord.cost_usd
    )
    billed = [r for r in rows if r[1]]
    cost = (BATCH_USAGE["input_tokens"] * 1.0 + BATCH_USAGE["output_tokens"] * 2.0) / 1_000_000
    assert billed == [("openai-batches", 1000, 200, pytest.approx(cost))]


def test_assistants_threads_and_runs_are_the_keys_with_public_models(gateway: GatewayProcess, fake: FakeOpenAIObjects) -> None:
    client, key_id = _client(gateway)
    other, _ = _client(gateway)
    assistant = client.beta.assistants.create(model="gpt-pub", name="Helper", instructions="Be brief.")
    assert assistant.model == "gpt-pub"
    seen = fake.requests[-1]
    assert seen["body"] == {"model": "up-gpt", "name": "Helper", "instructions": "Be brief."}
    assert seen["headers"]["OpenAI-Beta"] == "assistants=v2"
    assert client.beta.assistants.retrieve(assistant.id).model == "gpt-pub"
    assert [a.id for a in client.beta.assistants.list()] == [assistant.id]
    with pytest.raises(openai.NotFoundError):
        other.beta.assistants.retrieve(assistant.id)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Hello?"}])
    client.beta.threads.messages.create(thread_id=thread.id, role="user", content="Still there?")
    with pytest.raises(openai.NotFoundError):
        other.beta.threads.messages.list(thread_id=thread.id)
    theirs = other.beta.threads.create()
    with pytest.raises(openai.NotFoundError, match=f"No such assistant object: {assistant.id}"):
        other.beta.threads.runs.create(thread_id=theirs.id, assistant_id=assistant.id)
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=50)
    assert run.status == "completed" and run.model == "gpt-pub" and run.usage and run.usage.total_tokens == 340
    assert client.beta.threads.runs.retrieve(run.id, thread_id=thread.id).status == "completed"
    texts = [m.content[0].text.value for m in client.beta.threads.messages.list(thread_id=thread.id).data]  # type: ignore[union-attr]
    assert texts == ["An answer.", "Still there?", "Hello?"]
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id) as stream:
        streamed = stream.get_final_run()
        assert stream.get_final_messages()[0].content[0].text.value == "Streamed answer."  # type: ignore[union-attr]
    assert streamed.status == "completed" and streamed.model == "gpt-pub"  # renamed in the events too
    rows = key_records(
        gateway, key_id, 12, UsageRecord.family, UsageRecord.public_model, UsageRecord.input_tokens, UsageRecord.cost_usd
    )
    billed = [r for r in rows if r[2]]
    cost = (RUN_USAGE["prompt_tokens"] * 1.0 + RUN_USAGE["completion_tokens"] * 2.0) / 1_000_000
    assert billed == [("openai-assistants", "gpt-pub", 300, pytest.approx(cost))] * 2  # the polled run and the streamed one


def test_ids_in_a_path_cannot_climb_out_of_it(gateway: GatewayProcess, fake: FakeOpenAIObjects) -> None:
    client, _ = _client(gateway)
    thread = client.beta.threads.create()
    theirs = _client(gateway)[0].files.create(file=("secret.txt", b"secret", "text/plain"), purpose="assistants")
    seen = len(fake.requests)
    key = client.api_key
    for path in (
        f"/threads/{thread.id}/runs/..%2F..%2F..%2Ffiles%2F{theirs.id}",
        f"/threads/{thread.id}/runs/../../../files/{theirs.id}/content",
    ):
        answer = requests.get(gateway.url + "/openai/v1" + path, headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert answer.status_code == 404 and b"secret" not in answer.content
    assert all("files" not in r["path"] for r in fake.requests[seen:])


def test_the_mock_provider_serves_every_route_offline(tmp_path: Any) -> None:
    config = {
        "database": f"sqlite:///{tmp_path}/anygate.db",
        "admin_key": ADMIN,
        "providers": {"mock": {"type": "mock"}},
        "models": {
            "tts": [{"provider": "mock", "model": "mock-tts", "character_price": 30.0}],
            "hear": [{"provider": "mock", "model": "mock-whisper", "minute_price": 0.006}],
            "chat": [{"provider": "mock", "model": "mock-chat"}],
        },
    }
    gateway = GatewayProcess(tmp_path, config).start()
    try:
        client, _ = _client(gateway)
        other, _ = _client(gateway)
        audio = client.audio.speech.create(model="tts", voice="alloy", input="Hello").content
        assert audio[:4] == b"RIFF" and audio[8:12] == b"WAVE" and len(audio) == 44 + int(8000 * 5 * 0.06)
        heard = client.audio.transcriptions.create(model="hear", file=("a.wav", b"\0" * 64000, "audio/wav"))
        assert heard.text == "Mock transcription of a.wav (64000 bytes)."
        assert [r.flagged for r in client.moderations.create(input=["a bomb", "tea"]).results] == [True, False]
        line = {
            "custom_id": "x",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "chat", "messages": [{"role": "user", "content": "ping"}]},
        }
        source = client.files.create(file=("in.jsonl", orjson.dumps(line), "application/jsonl"), purpose="batch")
        batch = client.batches.create(input_file_id=source.id, endpoint="/v1/chat/completions", completion_window="24h")
        assert batch.status == "completed" and batch.request_counts and batch.request_counts.completed == 1
        output = orjson.loads(client.files.content(batch.output_file_id or "").read())
        assert output["custom_id"] == "x" and output["response"]["body"]["choices"][0]["message"]["content"] == "ping"
        assert other.files.list().data == [] and other.batches.list().data == []
        assistant = client.beta.assistants.create(model="chat", instructions="Echo.")
        thread = client.beta.threads.create(messages=[{"role": "user", "content": "echo me"}])
        run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
        assert run.status == "completed" and run.model == "chat"
        reply = client.beta.threads.messages.list(thread_id=thread.id).data[0]
        assert reply.role == "assistant" and reply.content[0].text.value == "echo me"  # type: ignore[union-attr]
    finally:
        gateway.stop()


def test_a_key_cannot_name_another_keys_file_in_a_body(gateway: GatewayProcess, fake: FakeOpenAIObjects) -> None:
    owner, _ = _client(gateway)
    other, _ = _client(gateway)
    secret = owner.files.create(file=("secret.csv", b"a,b\n1,2\n", "text/csv"), purpose="assistants").id
    tools = {"code_interpreter": {"file_ids": [secret]}}
    assistant = owner.beta.assistants.create(model="gpt-pub", tools=[{"type": "code_interpreter"}], tool_resources=tools)
    assert fake.requests[-1]["body"]["tool_resources"] == tools  # the owner may
    seen = len(fake.requests)
    message = {
        "role": "user",
        "content": "read it",
        "attachments": [{"file_id": secret, "tools": [{"type": "code_interpreter"}]}],
    }
    attempts: list[Callable[[], object]] = [
        lambda: other.beta.assistants.create(model="gpt-pub", tools=[{"type": "code_interpreter"}], tool_resources=tools),
        lambda: other.beta.threads.create(messages=[message]),  # type: ignore[list-item]
        lambda: other.beta.threads.messages.create(thread_id=other.beta.threads.create().id, **message),  # type: ignore[arg-type]
        lambda: other.chat.completions.create(
            model="gpt-pub", messages=[{"role": "user", "content": [{"type": "file", "file": {"file_id": secret}}]}]
        ),
        lambda: other.responses.create(
            model="gpt-pub", input=[{"role": "user", "content": [{"type": "input_file", "file_id": secret}]}]
        ),
    ]
    for attempt in attempts:
        with pytest.raises(openai.NotFoundError, match=f"No such File object: {secret}"):
            attempt()
    assert [r["path"] for r in fake.requests[seen:]] == ["/v1/threads"]  # only the thread the third attempt made for itself
    assert assistant.tool_resources and assistant.tool_resources.code_interpreter
