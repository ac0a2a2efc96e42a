/// A binary min-heap of Ints: the ready queue of stages by file position, in
/// `topologicalOrder` and in the engine's scheduler, so that among stages ready at the
/// same time the one earlier in the file always comes first.
package struct MinHeap: Sendable {
    private var items: [Int] = []

    package init(_ values: [Int]) {
        for value in values { push(value) }
    }

    package mutating func push(_ value: Int) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    package mutating func pop() -> Int? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return first }
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < items.count, items[left] < items[smallest] { smallest = left }
            if right < items.count, items[right] < items[smallest] { smallest = right }
            guard smallest != parent else { return first }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
