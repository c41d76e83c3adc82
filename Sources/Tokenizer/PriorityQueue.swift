/// A binary min-heap: both BPE variants repeatedly take the best pending merge.
struct PriorityQueue<Element: Comparable> {
    private var heap: [Element] = []

    var isEmpty: Bool { heap.isEmpty }

    mutating func removeAll() { heap.removeAll(keepingCapacity: true) }

    mutating func push(_ element: Element) {
        heap.append(element)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child] < heap[parent] else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the smallest element.
    mutating func pop() -> Element? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        let top = heap[0]
        // Sift the last element down from the root; unchecked indexing, as this is the hot loop
        // of both BPE variants.
        heap.withUnsafeMutableBufferPointer { h in
            let count = h.count
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = last
                var smallestIndex = parent
                if left < count && h[left] < smallest { smallest = h[left]; smallestIndex = left }
                if right < count && h[right] < smallest { smallestIndex = right }
                if smallestIndex == parent { break }
                h[parent] = h[smallestIndex]
                parent = smallestIndex
            }
            h[parent] = last
        }
        return top
    }
}
