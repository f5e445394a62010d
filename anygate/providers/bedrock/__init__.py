"""AWS Bedrock: Claude through InvokeModel in Anthropic's own Messages body, every other model through
the Converse API, signed with SigV4 (botocore) or a Bedrock API key."""
