// The Vercel AI SDK against the gateway: each provider package (OpenAI Responses and chat,
// OpenAI-compatible, Anthropic, Google) runs a tool loop whole (generateText) and streamed
// (streamText), reading a file through a `read_file` tool. Prints {provider: [whole, streamed]}.
// Usage: node vercel-ai.mjs GATEWAY_URL KEY MODEL FILE
import { readFileSync } from "node:fs";
import { generateText, streamText, tool, stepCountIs } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { createAnthropic } from "@ai-sdk/anthropic";
import { createGoogleGenerativeAI } from "@ai-sdk/google";
import { z } from "zod";

const [url, apiKey, model, file] = process.argv.slice(2);
const openai = createOpenAI({ baseURL: `${url}/openai/v1`, apiKey });
const models = {
  "openai-responses": openai.responses(model),
  "openai-chat": openai.chat(model),
  "openai-compatible": createOpenAICompatible({ name: "anygate", baseURL: `${url}/openai/v1`, apiKey }).chatModel(model),
  anthropic: createAnthropic({ baseURL: `${url}/anthropic/v1`, apiKey })(model),
  google: createGoogleGenerativeAI({ baseURL: `${url}/gemini/v1beta`, apiKey })(model),
};
const tools = {
  read_file: tool({
    description: "Read a text file and return its content.",
    inputSchema: z.object({ file_path: z.string() }),
    execute: async ({ file_path }) => readFileSync(file_path, "utf8"),
  }),
};
const prompt = `Show the content of the file ${file}`;
const answers = {};
for (const [name, chosen] of Object.entries(models)) {
  const settings = { model: chosen, tools, prompt, stopWhen: stepCountIs(3), maxRetries: 0 };
  const whole = await generateText(settings);
  const streamed = streamText(settings);
  answers[name] = [whole.text, await streamed.text];
}
console.log(JSON.stringify(answers));
