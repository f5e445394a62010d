"""The `mistral` provider type: Mistral's API refuses what it does not know (a 422), takes the seed as
`random_seed` and `tool_choice: any` for "required", and wants tool-call ids of nine letters and digits."""
