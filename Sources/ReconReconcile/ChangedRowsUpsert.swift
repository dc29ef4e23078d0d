/// `INSERT … ON CONFLICT (key) DO UPDATE SET … WHERE (…) IS DISTINCT FROM (…)`: new keys
/// inserted, changed rows replaced, equal rows left alone, so writing the same rows again writes
/// nothing and keeps each row's identity. Imports and reconcile commits both move staged rows
/// into place this way.
enum ChangedRowsUpsert {
    /// The statement (the target aliased `t`). `select` gives the source's expressions for
    /// `columns`, in order (a cast where the staging type differs); `alsoSet` adds assignments made
    /// only when the row changed.
    static func sql(
        into table: String, columns: [String], select: [String]? = nil, from source: String, key: [String],
        alsoSet: [String] = [], returning: String? = nil
    ) -> String {
        let values = columns.filter { !key.contains($0) }
        let sets = values.map { "\($0) = EXCLUDED.\($0)" } + alsoSet
        return """
            INSERT INTO \(table) AS t (\(columns.joined(separator: ", ")))
            SELECT \((select ?? columns).joined(separator: ", ")) FROM \(source)
            ON CONFLICT (\(key.joined(separator: ", "))) DO UPDATE SET \(sets.joined(separator: ", "))
            WHERE (\(values.map { "t.\($0)" }.joined(separator: ", ")))
                IS DISTINCT FROM (\(values.map { "EXCLUDED.\($0)" }.joined(separator: ", ")))
            \(returning.map { "RETURNING \($0)" } ?? "")
            """
    }
}
