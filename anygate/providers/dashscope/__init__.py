"""The `dashscope` provider type: Alibaba Model Studio's native API (images, video tasks)."""
