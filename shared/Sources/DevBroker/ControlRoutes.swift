// The development broker's control API: topics and fault injection for reliability tests.
import Foundation
import Hummingbird
import Kafka
import KafkaDevelopment

struct ControlRoutes: Sendable {
    let cluster: KafkaDevelopmentCluster
    let bootstrap: String

    struct ClusterInfo: ResponseEncodable {
        let bootstrap: String
        let brokers: String
        let topics: [String: Int]
    }

    struct TopicRequest: Decodable {
        let name: String
        let partitions: Int
    }

    struct RequestErrors: Decodable {
        /// produce, fetch, metadata, join_group, ... (see KafkaDevelopmentCluster.RequestKind)
        let request: String
        /// Kafka error codes, applied to the next requests in order; empty clears.
        let errors: [Int32]
    }

    struct Done: ResponseEncodable { let ok: Bool }

    func register(on router: Router<BasicRequestContext>) {
        let api = router.group("v1")
        api.get("cluster") { _, _ in
            ClusterInfo(bootstrap: bootstrap, brokers: cluster.bootstrapServers, topics: cluster.topics)
        }
        api.post("topics") { request, context -> Done in
            let topic = try await request.decode(as: TopicRequest.self, context: context)
            try Self.perform { try cluster.createTopic(topic.name, partitions: topic.partitions) }
            return Done(ok: true)
        }
        api.post("brokers/:id/:state") { _, context -> Done in
            let id = try context.parameters.require("id", as: Int32.self)
            let state = try context.parameters.require("state")
            switch state {
            case "down", "up":
                try Self.perform { try cluster.setBroker(id, up: state == "up") }
            default:
                throw HTTPError(.notFound, message: "unknown broker action '\(state)': use down, up or rtt")
            }
            return Done(ok: true)
        }
        api.post("brokers/:id/rtt") { request, context -> Done in
            let id = try context.parameters.require("id", as: Int32.self)
            guard let milliseconds = request.uri.queryParameters.get("ms", as: Int.self), milliseconds >= 0 else {
                throw HTTPError(.badRequest, message: "query parameter ms (a non-negative integer) is required")
            }
            try Self.perform { try cluster.setRoundTripTime(broker: id, milliseconds: milliseconds) }
            return Done(ok: true)
        }
        api.post("request-errors") { request, context -> Done in
            let body = try await request.decode(as: RequestErrors.self, context: context)
            guard let kind = KafkaDevelopmentCluster.RequestKind.named(body.request) else {
                let known = KafkaDevelopmentCluster.RequestKind.allCases.map(\.name).joined(separator: ", ")
                throw HTTPError(.badRequest, message: "unknown request '\(body.request)'; one of: \(known)")
            }
            try Self.perform { try cluster.injectRequestErrors(kind, errors: body.errors) }
            return Done(ok: true)
        }
    }

    private static func perform(_ action: () throws -> Void) throws {
        do {
            try action()
        } catch let error as KafkaError {
            throw HTTPError(.badRequest, message: error.message)
        }
    }
}

extension KafkaDevelopmentCluster.RequestKind {
    /// snake_case name, as the control API takes it.
    var name: String {
        String(describing: self).reduce(into: "") { name, character in
            if character.isUppercase { name += "_" + character.lowercased() } else { name.append(character) }
        }
    }

    static func named(_ name: String) -> Self? { allCases.first { $0.name == name } }
}
