"""An ASR worker pool over Redis Streams: a consumer group with acks; jobs a crashed worker
left pending are claimed by another after ``WorkerConfig.claim_after_s``."""

from media.speech.pool.client import AsrPoolClient, PoolJobError
from media.speech.pool.connection import pool_redis
from media.speech.pool.protocol import StreamKeys
from media.speech.pool.worker import AsrWorker, WorkerConfig

__all__ = ["AsrPoolClient", "AsrWorker", "PoolJobError", "StreamKeys", "WorkerConfig", "pool_redis"]
