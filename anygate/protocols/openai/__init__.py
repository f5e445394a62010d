"""The OpenAI client family under /openai/v1: chat completions, the Responses API, the models list, and
the extended routes (embeddings, images, videos, audio, moderations, files, batches, assistants, threads)."""

from anygate.protocols.openai import assistants, audio, files
from anygate.protocols.openai.chat import chat_completions
from anygate.protocols.openai.codec import OPENAI_CHAT
from anygate.protocols.openai.errors import error_response
from anygate.protocols.openai.extended import embeddings, image_generations
from anygate.protocols.openai.models import list_models, retrieve_model
from anygate.protocols.openai.responses import create_response, delete_response, get_response, list_input_items
from anygate.protocols.openai.videos import VideoTasks, create_video, get_video, video_content
from anygate.server.family import Family, Mode, Route

_ID = r"[\w-]+"  # an upstream's id: nothing that could climb out of the path it is put in
_THREAD_PARTS: list[tuple[str, str, str, Mode]] = [
    ("GET", "messages", "The messages of a thread of this key", "sync"),
    ("POST", "messages", "Add a message to a thread of this key", "sync"),
    ("GET", f"messages/{{message_id:{_ID}}}", "A message of a thread of this key", "sync"),
    ("POST", f"messages/{{message_id:{_ID}}}", "Modify a message of a thread of this key", "sync"),
    ("DELETE", f"messages/{{message_id:{_ID}}}", "Delete a message of a thread of this key", "sync"),
    ("GET", "runs", "The runs of a thread of this key", "sync"),
    (
        "POST",
        "runs",
        "Run an assistant of this key on the thread (streamed with stream:true); its tokens are billed once it ends",
        "sync+stream",
    ),
    ("GET", f"runs/{{run_id:{_ID}}}", "A run of a thread of this key", "sync"),
    ("POST", f"runs/{{run_id:{_ID}}}", "Modify a run of a thread of this key", "sync"),
    ("POST", f"runs/{{run_id:{_ID}}}/cancel", "Cancel a run", "sync"),
    (
        "POST",
        f"runs/{{run_id:{_ID}}}/submit_tool_outputs",
        "Send a run its tool outputs (streamed with stream:true)",
        "sync+stream",
    ),
    ("GET", f"runs/{{run_id:{_ID}}}/steps", "The steps of a run", "sync"),
    ("GET", f"runs/{{run_id:{_ID}}}/steps/{{step_id:{_ID}}}", "A step of a run", "sync"),
]
_THREAD = f"/openai/v1/threads/{{thread_id:{_ID}}}"

FAMILY = Family(
    name="openai",
    prefix="/openai/",
    render_error=error_response,
    wires=(OPENAI_CHAT,),
    routes=[
        Route("GET", "/openai/v1/models", list_models, "OpenAI list models: the models this key may use"),
        Route("GET", "/openai/v1/models/{model:.+}", retrieve_model, "OpenAI retrieve a model"),
        Route(
            "POST",
            "/openai/v1/chat/completions",
            chat_completions,
            "OpenAI chat completions, streamed with stream:true",
            mode="sync+stream",
        ),
        Route(
            "POST",
            "/openai/v1/responses",
            create_response,
            "OpenAI Responses API, over every upstream; streamed with stream:true; stored unless store:false",
            mode="sync+stream",
        ),
        Route("POST", "/openai/v1/embeddings", embeddings, "OpenAI embeddings, from every provider that makes them"),
        Route("POST", "/openai/v1/images/generations", image_generations, "OpenAI image generation, from providers that draw"),
        Route(
            "POST",
            "/openai/v1/videos",
            create_video,
            "OpenAI video generation, a task over Kling or DashScope",
            mode="async-task",
        ),
        Route("GET", "/openai/v1/videos/{video_id}", get_video, "A video task, as OpenAI's video object", mode="poll"),
        Route("GET", "/openai/v1/videos/{video_id}/content", video_content, "The finished video, streamed through"),
        Route("GET", "/openai/v1/responses/{response_id}", get_response, "A stored response of this key"),
        Route("DELETE", "/openai/v1/responses/{response_id}", delete_response, "Delete a stored response of this key"),
        Route(
            "GET",
            "/openai/v1/responses/{response_id}/input_items",
            list_input_items,
            "The input items a stored response answered",
        ),
        Route("POST", "/openai/v1/audio/speech", audio.speech, "Text to speech, the audio streamed back; billed by characters"),
        Route(
            "POST",
            "/openai/v1/audio/transcriptions",
            audio.transcriptions,
            "Speech to text (multipart upload, streamed on); billed by minutes",
        ),
        Route(
            "POST", "/openai/v1/audio/translations", audio.translations, "Speech to English text (multipart upload, streamed on)"
        ),
        Route("POST", "/openai/v1/moderations", audio.moderations, "Moderation checks"),
        Route("POST", "/openai/v1/files", files.upload_file, "Upload a file (multipart, streamed on); it belongs to this key"),
        Route("GET", "/openai/v1/files", files.list_files, "The files of this key"),
        Route("GET", f"/openai/v1/files/{{file_id:{_ID}}}", files.file_object, "A file of this key"),
        Route("DELETE", f"/openai/v1/files/{{file_id:{_ID}}}", files.file_object, "Delete a file of this key"),
        Route("GET", f"/openai/v1/files/{{file_id:{_ID}}}/content", files.file_object, "A file's bytes, streamed through"),
        Route("POST", "/openai/v1/batches", files.create_batch, "Create a batch from a file of this key", mode="async-task"),
        Route("GET", "/openai/v1/batches", files.list_batches, "The batches of this key"),
        Route("GET", f"/openai/v1/batches/{{batch_id:{_ID}}}", files.batch_object, "A batch of this key", mode="poll"),
        Route("POST", f"/openai/v1/batches/{{batch_id:{_ID}}}/cancel", files.batch_object, "Cancel a batch of this key"),
        Route("POST", "/openai/v1/assistants", assistants.create_assistant, "Create an assistant, at its model's provider"),
        Route("GET", "/openai/v1/assistants", assistants.list_assistants, "The assistants of this key"),
        Route("GET", f"/openai/v1/assistants/{{assistant_id:{_ID}}}", assistants.assistant_object, "An assistant of this key"),
        Route(
            "POST",
            f"/openai/v1/assistants/{{assistant_id:{_ID}}}",
            assistants.assistant_object,
            "Modify an assistant of this key",
        ),
        Route(
            "DELETE",
            f"/openai/v1/assistants/{{assistant_id:{_ID}}}",
            assistants.assistant_object,
            "Delete an assistant of this key",
        ),
        Route("POST", "/openai/v1/threads", assistants.create_thread, "Create a thread"),
        Route("GET", _THREAD, assistants.thread_part, "A thread of this key"),
        Route("POST", _THREAD, assistants.thread_part, "Modify a thread of this key"),
        Route("DELETE", _THREAD, assistants.thread_part, "Delete a thread of this key"),
        *[
            Route(method, f"{_THREAD}/{part}", assistants.thread_part, summary, mode)
            for method, part, summary, mode in _THREAD_PARTS
        ],
    ],
)
TASK_FAMILY = VideoTasks()
