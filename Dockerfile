FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir -e '.[openai]' \
 && pip install --no-cache-dir --no-deps openai-whisper==20250625
EXPOSE 8000
CMD ["counsel-room", "serve", "--host", "0.0.0.0"]
