// Assembles the notifier from its parts; tests call it with port 0, their own broker and a
// Slack stand-in.
import Events
import Hummingbird
import Kafka
import Logging
import Telemetry

package func buildApplication(
    runtime: ServiceRuntime, settings: NotifierSettings,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) throws
    -> (application: some ApplicationProtocol, worker: NotifierWorker)
{
    let logger = runtime.logger
    let metrics = NotifierMetrics(runtime.metrics)
    let transport: any SlackTransport
    var routes = settings.routes
    switch settings.slack {
    case .webhook(let url):
        transport = SlackIncomingWebhook(url: url, http: OutboundHTTP())
        // A webhook posts to the one channel it was made for: one lane, one pace.
        routes = ChannelRoutes(defaultChannel: "webhook")
    case .bot(let token, let apiURL):
        transport = SlackWebAPI(token: token, baseURL: apiURL, http: OutboundHTTP())
    case .sink(let path):
        transport = try SlackLocalSink(path: path, logger: logger)
    }
    logger.info(
        "slack delivery",
        metadata: ["mode": "\(settings.slack)", "channels": "\(routes.all.sorted().joined(separator: ","))"])

    let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: settings.kafka), logger: logger)
    let inputs = [settings.anomaliesTopic, settings.alertmanagerTopic, settings.feedbackTopic]
    producer.declare(
        topics: [settings.alertmanagerTopic, settings.feedbackTopic, settings.incidentsTopic]
            + inputs.map(Topic.deadLetters(of:)))
    let book = IncidentBook(
        settings: .init(
            digestThreshold: settings.digestThreshold, quiet: settings.incidentQuiet,
            remindEvery: settings.remindEvery == .zero ? nil : settings.remindEvery,
            retention: settings.incidentRetention))
    let store = IncidentStore(
        topic: settings.incidentsTopic, producer: producer,
        reader: try KafkaChangelogReader(
            kafka: settings.kafka, groupID: settings.consumerGroup + ".incidents", logger: logger),
        book: book, metrics: metrics, logger: logger)
    // The owner of an incident is the owner of its alerts' partition: verdicts are keyed as the
    // alerts are, so the same member reads both (topics of one partition count, range assignment).
    var consumerConfiguration = KafkaConsumerConfiguration(
        kafka: settings.kafka, groupID: settings.consumerGroup,
        topics: inputs)
    consumerConfiguration.maxBatchSize = 1000
    consumerConfiguration.coPartitioned = true
    let consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: logger, onRebalance: store.note)
    let renderer = MessageRenderer(templates: settings.templates)
    let delivery = SlackDelivery(
        transport: transport, producer: producer,
        configuration: .init(
            channelInterval: settings.channelInterval, maxRetryDelay: settings.maxRetryDelay,
            buttons: settings.slackSigningSecret != nil),
        book: book, renderer: renderer, persist: store.persist, metrics: metrics, logger: logger)
    let worker = NotifierWorker(
        consumer: consumer, producer: producer, delivery: delivery, book: book, store: store,
        silencer: settings.alertmanagerURL.map { AlertmanagerSilencer(baseURL: $0, http: OutboundHTTP()) },
        settings: settings, routes: routes, metrics: metrics, logger: logger)

    runtime.readiness.add("kafka", producer.checkReachable)
    let router = runtime.makeRouter()
    router.addRoutes(
        AlertmanagerWebhook(producer: producer, settings: settings, metrics: metrics, logger: logger).routes)
    if let secret = settings.slackSigningSecret {
        SlackInteractions(
            producer: producer, secret: secret, feedbackTopic: settings.feedbackTopic, metrics: metrics, logger: logger
        ).register(on: router)
    }
    // Shutdown runs in reverse: HTTP stops taking webhooks, the worker delivers what it can
    // within the drain timeout, the producer flushes, the consumer commits and leaves.
    return (
        runtime.makeApplication(router: router, services: [consumer, producer, worker], onListening: onListening),
        worker
    )
}
