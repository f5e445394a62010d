"""What a `bedrock` provider takes: `region` and the AWS credentials, each optional (the standard AWS
chain otherwise: environment, shared files and profiles, SSO, container and instance roles)."""

from pydantic import model_validator

from anygate.config import ProviderConfig


class BedrockSettings(ProviderConfig):
    """The Bedrock runtime of one AWS account and region."""

    region: str | None = None  # none: AWS_REGION / AWS_DEFAULT_REGION / the profile's, else us-east-1
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None
    aws_profile: str | None = None  # a profile of the shared config and credentials files
    role_arn: str | None = None  # a role to assume (STS) with the credentials above

    @model_validator(mode="after")
    def _key_pair(self) -> "BedrockSettings":
        if bool(self.aws_access_key_id) != bool(self.aws_secret_access_key):
            raise ValueError("aws_access_key_id and aws_secret_access_key are given together")
        if self.api_key and (self.aws_access_key_id or self.aws_profile or self.role_arn):
            raise ValueError("a Bedrock API key (api_key) replaces AWS credentials: give one or the other")
        return self

    def secrets(self) -> list[str | None]:
        """The API key, the secret key and the session token."""
        return [self.api_key, self.aws_secret_access_key, self.aws_session_token]


SETTINGS = BedrockSettings
