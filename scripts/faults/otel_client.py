"""Logs through the OpenTelemetry Python SDK as an application would (the logging module, the
SDK's LoggingHandler, its batch processor and its OTLP/HTTP protobuf exporter), to an endpoint:

    otel_client.py ENDPOINT COUNT COMPRESSION(none|gzip|deflate) SERVICE

Prints each export's result; exit status 1 unless every export succeeded."""
import logging
import sys

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExportResult
from opentelemetry.sdk.resources import Resource

endpoint, count, compression, service = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
results = []


class Recording(OTLPLogExporter):
    def export(self, batch):
        result = super().export(batch)
        results.append((len(batch), result))
        print(f"exported {len(batch)} records: {result.name}", flush=True)
        return result


provider = LoggerProvider(resource=Resource.create({"service.name": service, "host.name": "node-7"}))
exporter = Recording(endpoint=endpoint, compression=Compression(compression), timeout=10)
provider.add_log_record_processor(BatchLogRecordProcessor(exporter, max_export_batch_size=200))
logger = logging.getLogger("checkout.payments")
logger.propagate = False
logger.addHandler(LoggingHandler(level=logging.INFO, logger_provider=provider))
logger.setLevel(logging.INFO)
for number in range(count):
    if number % 10 == 0:
        logger.error("payment %d failed: card processor unreachable", number, extra={"payment.provider": "acme-pay"})
    else:
        logger.info("payment %d authorised", number)
provider.shutdown()
exported = sum(n for n, result in results if result == LogRecordExportResult.SUCCESS)
print(f"{exported} of {count} records exported", flush=True)
sys.exit(0 if exported == count else 1)
