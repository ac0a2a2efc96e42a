import Foundation
import PipelineSpec
import RunStore

/// The numeric metrics of a pipeline's recent runs, one series per `stage.metric`
/// (nested metrics flattened to dotted names), oldest run first: what the charts plot.
struct MetricSeries: Sendable {
    struct Point: Sendable {
        var runID: Int64
        var commit: String
        var startedAt: Date
        var value: Double
    }

    var pipeline: String
    /// `stage.metric` -> points, oldest first.
    var series: [(name: String, points: [Point])]

    static func load(_ state: ServerState, pipeline: String, runs: Int) async throws -> MetricSeries {
        let rows: [MetricPoint]
        do {
            rows = try state.store.metricPoints(pipeline: pipeline, runs: runs)
            if rows.isEmpty, try !state.store.pipelineNames().contains(pipeline) {
                throw HTTPAnswer.notFound("no runs of pipeline '\(pipeline)'; /api/v1/pipelines lists those with runs")
            }
        } catch let error as RunStoreError {
            throw HTTPAnswer(status: .serviceUnavailable, message: "\(error)")
        }
        var byName: [String: [Point]] = [:]
        for row in rows {
            guard let value = try? JSONDecoder().decode(Value.self, from: Data(row.metricsJSON.utf8)) else { continue }
            for (name, number) in flatten(value, prefix: row.stage) {
                byName[name, default: []].append(Point(runID: row.runID, commit: row.commit,
                                                       startedAt: Date(timeIntervalSince1970: row.startedAt), value: number))
            }
        }
        return MetricSeries(pipeline: pipeline, series: byName.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    /// The numbers in `value`, by dotted name under `prefix`; text and booleans are left out.
    static func flatten(_ value: Value, prefix: String) -> [(String, Double)] {
        switch value {
        case .int(let number): return [(prefix, Double(number))]
        case .double(let number) where number.isFinite: return [(prefix, number)]
        case .object(let fields): return fields.flatMap { flatten($0.value, prefix: prefix + "." + $0.key) }
        default: return []
        }
    }

    /// `{"pipeline": …, "series": [{"name": "train.accuracy", "points": [{runId, commit, startedAt, value}]}]}`.
    var json: Value {
        .object([
            "pipeline": .string(pipeline),
            "series": .array(series.map { entry in
                .object([
                    "name": .string(entry.name),
                    "points": .array(entry.points.map { point in
                        .object(["runId": .int(Int(point.runID)), "commit": .string(point.commit),
                                 "startedAt": HistoryJSON.date(point.startedAt), "value": RegistryJSON.metric(point.value)])
                    }),
                ])
            }),
        ])
    }
}
