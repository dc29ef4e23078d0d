import ReconCore

/// One channel's 30 days as an inline SVG (`chart.mustache`): a bar per day for its
/// discrepancies, scaled to the busiest day, linking to them; a line for the matched share, on
/// a scale from just below the lowest day's share to 100 %. Coordinates are whole pixels,
/// computed with integers.
struct DayChart: Sendable {
    struct Bar: Sendable {
        var x: Int
        var y: Int
        var width: Int
        var height: Int
        var href: String
        var title: String
    }

    struct Dot: Sendable {
        var x: Int
        var y: Int
        var title: String
    }

    var label: String
    var width = 640
    var height = 140
    var left = 44
    var right = 596
    var top = 10
    var bottom = 110
    var topLabelY = 18
    var dateLabelY = 128
    var rightLabelX = 638
    var shareHigh = "100%"
    var shareLow: String
    var countHigh: String
    var firstDate: String
    var lastDate: String
    var bars: [Bar] = []
    var dots: [Dot] = []
    var linePoints: String
    var hasLine: Bool

    init(name: String, dates: [String], tallies: [String: DaysPage.Tally]) {
        label = "\(name): discrepancies and matched share per day"
        firstDate = dates.first ?? ""
        lastDate = dates.last ?? ""
        let maxCount = tallies.values.map(\.discrepancies).max() ?? 0
        countHigh = DashboardText.count(maxCount)
        let shares = tallies.values.filter { $0.items > 0 }.map { $0.matched * 10_000 / $0.items }
        // The scale's floor: a whole percent at least one below the lowest share, so the line
        // never sits on the axis.
        let lowPercent = max(0, (shares.min() ?? 9_900) / 100 - 1)
        shareLow = "\(lowPercent)%"
        let slot = (right - left) / max(dates.count, 1)
        let plotHeight = Int64(bottom - top)
        var points: [String] = []
        var bars: [Bar] = []
        var dots: [Dot] = []
        for (index, date) in dates.enumerated() {
            guard let tally = tallies[date] else { continue }
            let center = left + index * slot + slot / 2
            if tally.discrepancies > 0 && maxCount > 0 {
                let barHeight = max(1, Int(tally.discrepancies * plotHeight / maxCount))
                bars.append(
                    Bar(
                        x: center - slot / 3, y: bottom - barHeight, width: max(2, 2 * slot / 3), height: barHeight,
                        href: "/days/\(date)?" + FormURLEncoding.encode([("channel", name)]) + "#discrepancies",
                        title: "\(date): \(DashboardText.count(tally.discrepancies)) discrepancies"))
            }
            guard tally.items > 0 else { continue }
            let share = tally.matched * 10_000 / tally.items
            let span = Int64(10_000 - lowPercent * 100)
            let y = bottom - Int((share - Int64(lowPercent * 100)) * plotHeight / max(span, 1))
            points.append("\(center),\(y)")
            dots.append(Dot(x: center, y: y, title: "\(date): \(DashboardText.share(basisPoints: share)) matched"))
        }
        self.bars = bars
        self.dots = dots
        linePoints = points.joined(separator: " ")
        hasLine = points.count > 1
    }
}
