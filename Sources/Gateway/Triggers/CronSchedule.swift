import Foundation

/// A five-field cron expression (`minute hour day-of-month month day-of-week`) in a
/// time zone: `*`, lists, ranges, steps (`*/5`, `1-10/2`) and the names `jan`…`dec`,
/// `sun`…`sat`; day-of-week 0 and 7 are Sunday. As in cron, when both day fields are
/// restricted a day matches if either does.
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    public let timeZone: TimeZone
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    public var description: String { "\(text) (\(timeZone.identifier))" }

    /// A schedule, or an error saying which field is wrong and why.
    public init(_ text: String, timeZone identifier: String = "UTC") throws(CronError) {
        guard let zone = TimeZone(identifier: identifier) else { throw CronError("unknown time zone \(identifier)") }
        guard text.utf8.count <= 256 else { throw CronError("a cron expression has at most 256 characters") }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw CronError("a cron expression has five fields (minute hour day-of-month month day-of-week), not \(fields.count)")
        }
        self.text = fields.joined(separator: " ")
        timeZone = zone
        minutes = try Self.field(fields[0], "minute", 0...59)
        hours = try Self.field(fields[1], "hour", 0...23)
        days = try Self.field(fields[2], "day-of-month", 1...31)
        months = try Self.field(fields[3], "month", 1...12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])
        let weekdays = try Self.field(fields[4], "day-of-week", 0...7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"], namesFrom: 0)
        self.weekdays = Set(weekdays.map { $0 % 7 })
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
    }

    /// The first matching minute strictly after `date`; `nil` if none within eight years
    /// (e.g. `0 0 31 2 *`).
    public func next(after date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        // Start at the next whole minute.
        var candidate = Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
        let limit = date.addingTimeInterval(8 * 366 * 86400)
        while candidate < limit {
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: candidate)
            guard let month = parts.month, let day = parts.day, let hour = parts.hour, let minute = parts.minute, let weekday = parts.weekday
            else { return nil }
            if !months.contains(month) {
                guard let start = calendar.date(from: DateComponents(year: parts.year, month: month, day: 1)),
                    let next = calendar.date(byAdding: .month, value: 1, to: start)
                else { return nil }
                candidate = next
                continue
            }
            if !dayMatches(day: day, weekday: weekday - 1) {
                guard let start = calendar.date(from: DateComponents(year: parts.year, month: month, day: day)),
                    let next = calendar.date(byAdding: .day, value: 1, to: start)
                else { return nil }
                candidate = next
                continue
            }
            if !hours.contains(hour) {
                // To the next whole hour (by time, so that DST gaps are crossed).
                candidate = Date(timeIntervalSince1970: (candidate.timeIntervalSince1970 / 3600).rounded(.down) * 3600 + 3600)
                continue
            }
            if !minutes.contains(minute) {
                candidate = candidate.addingTimeInterval(60)
                continue
            }
            return candidate
        }
        return nil
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): return days.contains(day) || weekdays.contains(weekday)
        case (true, false): return days.contains(day)
        case (false, true): return weekdays.contains(weekday)
        case (false, false): return true
        }
    }

    private static func field(
        _ text: String, _ name: String, _ range: ClosedRange<Int>, names: [String] = [], namesFrom: Int = 1
    ) throws(CronError) -> Set<Int> {
        func value(_ token: Substring) throws(CronError) -> Int {
            if let number = Int(token), range.contains(number) { return number }
            if let index = names.firstIndex(of: token.lowercased()) { return index + namesFrom }
            throw CronError("\(name): '\(token)' is not a value from \(range.lowerBound) to \(range.upperBound)")
        }
        var result: Set<Int> = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.isEmpty else { throw CronError("\(name): an empty list item in '\(text)'") }
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw CronError("\(name): '\(part)' has more than one step") }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0, parsed <= range.upperBound else {
                    throw CronError("\(name): the step in '\(part)' must be a number from 1 to \(range.upperBound)")
                }
                step = parsed
            }
            let span: ClosedRange<Int>
            if pieces[0] == "*" {
                span = range
            } else if let dash = pieces[0].firstIndex(of: "-") {
                let low = try value(pieces[0][..<dash])
                let high = try value(pieces[0][pieces[0].index(after: dash)...])
                guard low <= high else { throw CronError("\(name): the range '\(pieces[0])' runs backwards") }
                span = low...high
            } else {
                let single = try value(pieces[0])
                span = single...(pieces.count == 2 ? range.upperBound : single)
            }
            result.formUnion(stride(from: span.lowerBound, through: span.upperBound, by: step))
        }
        return result
    }
}

/// Why a cron expression or time zone was refused.
public struct CronError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
