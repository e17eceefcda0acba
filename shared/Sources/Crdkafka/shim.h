// The C boundary of Alertron: librdkafka and its mock cluster, plus the few helpers Swift
// cannot express itself (librdkafka's variadic and macro-based entry points).
#ifndef ALERTRON_CRDKAFKA_SHIM_H
#define ALERTRON_CRDKAFKA_SHIM_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/// RD_KAFKA_PARTITION_UA is a macro cast Swift does not import.
static inline int32_t alertron_partition_unassigned(void) { return RD_KAFKA_PARTITION_UA; }

/// RD_KAFKA_OFFSET_INVALID is likewise a macro.
static inline int64_t alertron_offset_invalid(void) { return RD_KAFKA_OFFSET_INVALID; }

/// Producer flag: librdkafka copies the payload, so Swift buffers may be reused at once.
static inline int alertron_msg_flag_copy(void) { return RD_KAFKA_MSG_F_COPY; }

/// Producer flag: produce_batch honours each message's own partition (UA: the partitioner picks).
static inline int alertron_msg_flag_partition(void) { return RD_KAFKA_MSG_F_PARTITION; }

/// Event types this project polls for.
static inline int alertron_event_delivery_report(void) { return RD_KAFKA_EVENT_DR; }
static inline int alertron_event_error(void) { return RD_KAFKA_EVENT_ERROR; }
static inline int alertron_event_create_topics_result(void) { return RD_KAFKA_EVENT_CREATETOPICS_RESULT; }

#endif
